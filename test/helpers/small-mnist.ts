/**
 * Small slices of MNIST for fast training tests: the real images, the first N of each split, in order.
 */
import { loadMnist, type Dataset } from "../../lib/data/data";

let full: Promise<Dataset> | undefined;

/** The first `train` training and `test` test images of MNIST (loaded once per test file). */
export async function smallMnist(train: number, test = 100): Promise<Dataset> {
  // Explicit limits, so MIE_TRAIN_LIMIT / MIE_TEST_LIMIT in the environment cannot change what tests see.
  full ??= loadMnist({ train: { first: 60000 }, test: { first: 10000 } });
  const data = await full;
  const size = data.train.rows * data.train.cols;
  const first = (split: Dataset["train"], count: number) => ({
    ...split,
    count,
    images: split.images.subarray(0, count * size),
    labels: split.labels.subarray(0, count),
  });
  return { ...data, description: `first ${train} / ${test} MNIST images`, train: first(data.train, train), test: first(data.test, test) };
}
