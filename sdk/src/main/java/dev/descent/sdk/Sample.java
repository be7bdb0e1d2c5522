package dev.descent.sdk;

/** One labelled example for {@link DataSource#fromIterator}: features (copied) and a class index. */
public record Sample(float[] features, int label) {
    public Sample {
        features = features.clone();
    }

    @Override
    public float[] features() {
        return features.clone();
    }
}
