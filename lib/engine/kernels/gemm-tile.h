/*
 * gemm's one body: columns of the product in vectors of WIDTH floats, included by gemm.c once per width with
 *   NAME    the function's name,     WIDTH  floats per vector (1: single columns),
 *   ROWS × VECTORS  the register tile,   NARROW  what computes the columns left when N is under WIDTH.
 * NAME(p, m, m_end, n, n_end) computes columns n..n_end−1 of rows m..m_end−1.
 *
 * Every output is summed the same way whatever the width or tile: from 0, over k in order, one float32 multiply
 * and then one add per term (never fused: the kernels are compiled with -ffp-contract=off). The tile only decides
 * which outputs are under way side by side, never the order of any sum, so every build gives the same bits.
 */
#define V F32X(WIDTH)
#define VI I32X(WIDTH)

/* `rows` (≤ ROWS) × `vectors` (≤ VECTORS) vectors from row m and column n; both constants where called. */
static inline __attribute__((always_inline)) void CAT(NAME, _tile)(const struct product *p, int m, int rows, int n, int vectors) {
  V acc[ROWS][VECTORS];
  const char *arow[ROWS];
  for (int r = 0; r < rows; r++) {
    /* From 0, or (a later block of k) from the float32 sums the block before left in C: an exact store and load. */
    const char *partial = p->c + (ptrdiff_t)(m + r) * p->ldc + (ptrdiff_t)n * 4;
    for (int v = 0; v < vectors; v++) acc[r][v] = p->resume ? *(const V *)(partial + v * WIDTH * 4) : (V){0};
    arow[r] = p->a + (ptrdiff_t)(m + r) * p->sam;
  }
  const char *brow = p->b + (ptrdiff_t)n * 4;
  for (int k = 0; k < p->K; k++) {
    V bv[VECTORS];
    for (int v = 0; v < vectors; v++) bv[v] = *(const V *)(brow + v * WIDTH * 4);
    for (int r = 0; r < rows; r++) {
      float x = *(const float *)arow[r]; /* broadcast to every lane by the multiply (wasm: v128.load32_splat) */
      for (int v = 0; v < vectors; v++) {
        V product = bv[v] * x;
        acc[r][v] = acc[r][v] + product;
      }
      arow[r] += p->sak;
    }
    brow += p->ldb;
  }
  for (int r = 0; r < rows; r++) {
    ptrdiff_t at = (ptrdiff_t)(m + r) * p->ldc + (ptrdiff_t)n * 4;
    for (int v = 0; v < vectors; v++, at += WIDTH * 4) {
      V sum = acc[r][v], result;
      switch (p->mode) {
        case EPILOGUE_ADD_TO: result = *(const V *)(p->extra + at) + sum; break;
        /* sum · 1 or sum · 0 (a multiply, as tf.mul by tf.step: a negative sum gives −0, an infinite one NaN). */
        case EPILOGUE_MASK_BY_STEP: {
          VI keep = *(const V *)(p->extra + at) > (V){0};
          result = sum * (V)(keep & (VI)((V){0} + 1.0f));
          break;
        }
        case EPILOGUE_RELU: result = CAT(pmax0_, V)(sum); break;
        default: result = sum;
      }
      *(V *)(p->c + at) = result;
    }
  }
}

/* Columns n.. (`vectors` vectors, a constant) of rows m..m_end−1, ROWS rows at a time. */
static inline __attribute__((always_inline)) void CAT(NAME, _panel)(const struct product *p, int m, int m_end, int n, int vectors) {
  for (; m + ROWS <= m_end; m += ROWS) CAT(NAME, _tile)(p, m, ROWS, n, vectors);
  /* Fewer than ROWS left: tiles of 4, 2 and 1 rows, not single rows, which would wait on their loads. */
  if (ROWS > 4 && m_end - m >= 4) CAT(NAME, _tile)(p, m, 4, n, vectors), m += 4;
  if (ROWS > 2 && m_end - m >= 2) CAT(NAME, _tile)(p, m, 2, n, vectors), m += 2;
  if (m_end - m >= 1) CAT(NAME, _tile)(p, m, 1, n, vectors);
}

static void NAME(const struct product *p, int m, int m_end, int n, int n_end) {
  for (; n + VECTORS * WIDTH <= n_end; n += VECTORS * WIDTH) CAT(NAME, _panel)(p, m, m_end, n, VECTORS);
  for (; n + WIDTH <= n_end; n += WIDTH) CAT(NAME, _panel)(p, m, m_end, n, 1);
#if WIDTH > 1
  /*
   * The last columns: the last vector again where N allows (overlapping: it writes the same bits), else narrower.
   * Not where k goes in blocks: a sum resumed from C must be resumed once, so there every column has one tile.
   */
  if (n < n_end && n_end >= WIDTH && !p->blocked) CAT(NAME, _panel)(p, m, m_end, n_end - WIDTH, 1);
  else if (n < n_end) NARROW(p, m, m_end, n, n_end);
#endif
}

#undef V
#undef VI
#undef NAME
#undef WIDTH
#undef ROWS
#undef VECTORS
#undef NARROW
