/**
 * The notebooks end to end on the tslab kernel, on reduced data: executed by a real Jupyter, exported to HTML and
 * opened offline in Chromium (the checks: helpers/notebook-suite.ts; notebooks-deno.test.ts runs them on Deno's
 * kernel). lab.test.ts runs them live in JupyterLab.
 */
import { notebookSuite } from "../helpers/notebook-suite";

notebookSuite("tslab");
