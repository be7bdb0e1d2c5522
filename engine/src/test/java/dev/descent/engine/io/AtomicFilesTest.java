package dev.descent.engine.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void shouldGiveWrittenFilesThePermissionsOfAnyNewFileNotOwnerOnly() throws Exception {
        assumeThat(FileSystems.getDefault().supportedFileAttributeViews()).contains("posix");
        Path plain = Files.createFile(dir.resolve("plain.txt")); // permissions from the umask
        Path written = dir.resolve("written.txt");
        AtomicFiles.writeString(written, "hello\n");
        assertThat(Files.readString(written)).isEqualTo("hello\n");
        assertThat(Files.getPosixFilePermissions(written)).isEqualTo(Files.getPosixFilePermissions(plain));
        AtomicFiles.writeString(written, "again\n"); // replacing keeps them too
        assertThat(Files.getPosixFilePermissions(written)).isEqualTo(Files.getPosixFilePermissions(plain));
    }

    @Test
    void shouldLeaveNoTempFileBehindWhenTheBodyFails() throws Exception {
        Path target = dir.resolve("model.bin");
        assertThatThrownBy(() -> AtomicFiles.write(target, ch -> {
            throw new java.io.IOException("disk full (injected)");
        })).hasMessageContaining("injected");
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }
}
