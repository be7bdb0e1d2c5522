package dev.descent.sdk;

/** Which part of a standard dataset. */
public enum Split {
    TRAIN,
    TEST;

    dev.descent.engine.data.Split engine() {
        return this == TRAIN ? dev.descent.engine.data.Split.TRAIN : dev.descent.engine.data.Split.TEST;
    }
}
