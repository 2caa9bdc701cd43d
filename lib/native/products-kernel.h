/*
 * One instruction set's matrix product, included once per set by products.c, with
 *   NAME  the function's name,   LANES  floats per vector,   ROWS × VECTORS  the register tile,
 *   NARROW  what computes columns n..N−1 when N is under LANES.
 * NAME(p, n) computes columns n..N−1 of every row.
 *
 * Every output is summed exactly as step-simd's wasm kernel sums it: from 0, over k in order, one float32
 * multiply and then one add per term (never fused: products.c is compiled with -ffp-contract=off). Tiles and
 * vector widths only decide which outputs are computed side by side, never the order of any sum, so every
 * instruction set gives the wasm kernel's bits.
 */
typedef float CAT(NAME, _v) __attribute__((vector_size(LANES * 4), aligned(4), may_alias));
typedef int CAT(NAME, _i) __attribute__((vector_size(LANES * 4), aligned(4), may_alias));
#define V CAT(NAME, _v)
#define VI CAT(NAME, _i)

/* `rows` (≤ ROWS) × `vectors` (≤ VECTORS) vectors of LANES columns from column n; both constants where called. */
static inline __attribute__((always_inline)) void CAT(NAME, _tile)(const struct product *p, int m, int rows, int n, int vectors) {
  V acc[ROWS][VECTORS];
  const char *arow[ROWS];
  for (int r = 0; r < rows; r++) {
    for (int v = 0; v < vectors; v++) acc[r][v] = (V){0};
    arow[r] = p->a + (ptrdiff_t)(m + r) * p->sam;
  }
  const char *bp = p->b + (ptrdiff_t)n * 4;
  for (int k = 0; k < p->K; k++) {
    V bv[VECTORS];
    for (int v = 0; v < vectors; v++) bv[v] = *(const V *)(bp + v * LANES * 4);
    for (int r = 0; r < rows; r++) {
      float x = *(const float *)(arow[r] + (ptrdiff_t)k * p->sak);
      for (int v = 0; v < vectors; v++) {
        V product = bv[v] * x;
        acc[r][v] = acc[r][v] + product;
      }
    }
    bp += p->ldb;
  }
  for (int r = 0; r < rows; r++) {
    char *out = p->c + (ptrdiff_t)(m + r) * p->ldc + (ptrdiff_t)n * 4;
    const char *extra = p->extra + (ptrdiff_t)(m + r) * p->ldc + (ptrdiff_t)n * 4;
    for (int v = 0; v < vectors; v++) {
      V x = acc[r][v], result;
      switch (p->mode) {
        case EPILOGUE_ADD_TO: result = *(const V *)(extra + v * LANES * 4) + x; break;
        case EPILOGUE_MASK_BY_STEP: {
          VI keep = *(const V *)(extra + v * LANES * 4) > (V){0};
          result = x * (V)(keep & (VI)((V){0} + 1.0f));
          break;
        }
        case EPILOGUE_RELU: result = (V)((x > (V){0}) & (VI)x); break; /* pmax(0, x): +0 for −0 and NaN */
        default: result = x;
      }
      *(V *)(out + v * LANES * 4) = result;
    }
  }
}

/* Columns n.. (`vectors` vectors, a constant) of every row, ROWS rows at a time. Columns
   outside, rows inside: B's panel stays in cache while A's rows stream past it. */
static inline __attribute__((always_inline)) void CAT(NAME, _panel)(const struct product *p, int n, int vectors) {
  int m = 0;
  for (; m + ROWS <= p->M; m += ROWS) CAT(NAME, _tile)(p, m, ROWS, n, vectors);
  /* Fewer than ROWS (≤ 8) left: tiles of 4, 2 and 1, not single rows, which would wait on their loads. */
  if (ROWS > 4 && p->M - m >= 4) CAT(NAME, _tile)(p, m, 4, n, vectors), m += 4;
  if (ROWS > 2 && p->M - m >= 2) CAT(NAME, _tile)(p, m, 2, n, vectors), m += 2;
  if (p->M - m >= 1) CAT(NAME, _tile)(p, m, 1, n, vectors);
}

static void NAME(const struct product *p, int n) {
  for (; n + VECTORS * LANES <= p->N; n += VECTORS * LANES) CAT(NAME, _panel)(p, n, VECTORS);
  for (; n + LANES <= p->N; n += LANES) CAT(NAME, _panel)(p, n, 1);
  /* The last columns: the last vector again where N allows (overlapping: it writes the same bits), else singly. */
  if (n < p->N && p->N >= LANES) CAT(NAME, _panel)(p, p->N - LANES, 1);
  else if (n < p->N) NARROW(p, n);
}

#undef V
#undef VI
