package dev.descent.monitoring;

/**
 * The value behind a gauge: a volatile double that the binder holds strongly (Micrometer gauges only hold
 * a weak reference to their state object, so a holder that nobody else references would vanish from the
 * scrape after the next GC).
 */
final class DoubleHolder {
    private volatile double value;

    DoubleHolder(double initial) {
        this.value = initial;
    }

    void set(double v) {
        value = v;
    }

    double get() {
        return value;
    }
}
