package dev.descent.samples;

import java.nio.file.Path;

/** Where the Descent checkout is (set by the ./descent launcher as -Ddescent.home), else the working dir. */
public final class Home {
    private Home() {
    }

    public static Path root() {
        String home = System.getProperty("descent.home");
        return Path.of(home == null ? "." : home).toAbsolutePath().normalize();
    }
}
