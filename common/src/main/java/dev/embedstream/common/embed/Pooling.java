package dev.embedstream.common.embed;

/** How token vectors become one text vector. */
public enum Pooling {
    /** Average of the token vectors under the attention mask (sentence-transformers MiniLM). */
    MEAN,
    /** The [CLS] token's vector (BGE). */
    CLS;

    /**
     * Pools one row of {@code hidden} ([batch, seq, dim], row-major) and L2-normalises it.
     *
     * @param mask the row's attention mask, {@code seq} long
     */
    public float[] pool(float[] hidden, int row, int seq, int dim, long[] mask) {
        float[] out = new float[dim];
        int rowBase = row * seq * dim;
        if (this == CLS) {
            System.arraycopy(hidden, rowBase, out, 0, dim);
        } else {
            int count = 0;
            for (int t = 0; t < seq; t++) {
                if (mask[t] == 0) {
                    continue;
                }
                count++;
                int base = rowBase + t * dim;
                for (int d = 0; d < dim; d++) {
                    out[d] += hidden[base + d];
                }
            }
            float inv = 1f / Math.max(count, 1);
            for (int d = 0; d < dim; d++) {
                out[d] *= inv;
            }
        }
        return normalize(out);
    }

    static float[] normalize(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += (double) x * x;
        }
        float inv = (float) (1.0 / Math.max(Math.sqrt(sum), 1e-12));
        for (int i = 0; i < v.length; i++) {
            v[i] *= inv;
        }
        return v;
    }
}
