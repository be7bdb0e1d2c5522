package dev.descent.sdk.plot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FiguresTest {

    @Test
    void shouldDrawEachPanelSideBySideWithTheSeriesColours(@TempDir Path dir) throws Exception {
        Panel loss = Panel.of("Loss", "epoch", "loss", List.of(
                Series.ofIndexed("train", new double[] {2.0, 1.0, 0.5, 0.3}),
                Series.ofIndexed("test", new double[] {2.1, 1.2, 0.7, 0.6})));
        Panel acc = Panel.of("Accuracy", "epoch", "accuracy", List.of(
                Series.ofIndexed("train", new double[] {0.5, 0.7, 0.8, 0.9})))
                .withSecondAxis("lr", List.of(Series.ofIndexed("lr", new double[] {0.1, 0.05, 0.02, 0.01})));
        Path png = Figures.write(dir.resolve("curves.png"), "Fashion-MNIST training", List.of(loss, acc));

        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(2 * 640);
        assertThat(image.getHeight()).isEqualTo(440 + 36);
        // The first series colour (Okabe-Ito blue) must appear in both halves: lines were really drawn.
        assertThat(countColour(image, 0, 640, 0x0072B2)).isGreaterThan(100);
        assertThat(countColour(image, 640, 1280, 0x0072B2)).isGreaterThan(100);
        // The second-axis series (next palette colour in the second panel) is drawn too.
        assertThat(countColour(image, 640, 1280, 0xD55E00)).isGreaterThan(50);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("curves.png");
        }
    }

    @Test
    void shouldSkipNonPositiveValuesOnALogAxis(@TempDir Path dir) throws Exception {
        Panel p = Panel.of("norms", "layer", "norm", List.of(
                Series.ofIndexed("grad", new double[] {1e-8, 0.0, 1e-3, 1.0, Double.NaN}))).withLogY();
        Path png = Figures.write(dir.resolve("log.png"), null, List.of(p));
        assertThat(countColour(ImageIO.read(png.toFile()), 0, 640, 0x0072B2)).isGreaterThan(20);
    }

    @Test
    void shouldRejectSeriesOfUnequalLength() {
        assertThatThrownBy(() -> new Series("bad", new double[] {1, 2}, new double[] {1}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bad'").hasMessageContaining("2 x values but 1 y values");
    }

    private static int countColour(BufferedImage image, int x0, int x1, int rgb) {
        int count = 0;
        for (int x = x0; x < x1; x++) {
            for (int y = 0; y < image.getHeight(); y++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    count++;
                }
            }
        }
        return count;
    }
}
