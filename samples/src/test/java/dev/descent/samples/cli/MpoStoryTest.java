package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `descent story mpo` end to end on a tiny setting: the trained plane draws the icon (IoU far above chance, higher
 * test accuracy inside than outside), is saved as files `descent landscape plane` opens with the same numbers, and
 * resumes bit for bit; a user's PNG becomes the grid it shows.
 */
class MpoStoryTest {
    private static final String[] TINY = {"--grid", "7", "--batch", "32", "--cells", "4",
        "--widths", "16", "--train-limit", "2000", "--eval-examples", "300", "--evaluators", "1"};

    @BeforeAll
    static void findTheData() {
        StoryCommandTest.findTheData();
    }

    private static CliRunner.Run story(Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("story", "mpo", "--data-dir",
                StoryCommandTest.dataDir.toString(), "--out", out.toString()));
        args.addAll(List.of(TINY));
        args.addAll(List.of(extra));
        return CliRunner.run(args.toArray(String[]::new));
    }

    @Test
    void shouldDrawTheIconIntoThePlaneAndSaveItAsAModelAndDirections(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("mpo");
        CliRunner.Run r = story(out, "--icon", "heart", "--steps", "300");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("story mpo: icon heart").contains("IoU").contains("done: wrote");
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("icon").asText()).isEqualTo("heart");
        assertThat(s.get("grid").asInt()).isEqualTo(7);
        double chance = s.get("iou_chance").asDouble();
        assertThat(s.get("iou").asDouble()).as("the loss map draws the heart (chance %s)", chance)
                .isGreaterThan(Math.max(0.6, chance + 0.25));
        assertThat(s.get("mean_test_accuracy_inside").asDouble()).as("dark cells are trained networks")
                .isGreaterThan(0.5)
                .isGreaterThan(s.get("mean_test_accuracy_outside").asDouble() + 0.2);
        assertThat(s.get("mean_train_loss_outside").asDouble()).isGreaterThan(s.get("mean_train_loss_inside")
                .asDouble());
        for (String f : List.of("mpo.png", "mpo-training.png", "landscape.csv", "training.csv", "icon.txt",
                "origin.descent", "directions.descentd", "plane.state")) {
            assertThat(out.resolve(f)).isRegularFile();
        }
        assertThat(Files.readAllLines(out.resolve("landscape.csv"))).hasSize(1 + 49);

        // the plane reopens in `descent landscape plane`: the same grid gives the same train losses
        Path again = tmp.resolve("again");
        CliRunner.Run l = CliRunner.run("landscape", "plane", "--model", out.resolve("origin.descent").toString(),
                "--directions", out.resolve("directions.descentd").toString(), "--range", "1", "--grid", "7",
                "--data-dir", StoryCommandTest.dataDir.toString(), "--train-examples", "300", "--test-examples", "300",
                "--sharpness-examples", "0", "--evaluators", "1", "--out", again.toString());
        assertThat(l.exitCode()).as(l.err()).isZero();
        List<String> mine = Files.readAllLines(out.resolve("landscape.csv"));
        List<String> theirs = Files.readAllLines(again.resolve("landscape.csv"));
        assertThat(theirs).hasSize(mine.size());
        int col = List.of(mine.get(0).split(",")).indexOf("train_loss");
        int colTheirs = List.of(theirs.get(0).split(",")).indexOf("train_loss");
        assertThat(col).isNotNegative();
        for (int i = 1; i < mine.size(); i++) {
            assertThat(Double.parseDouble(theirs.get(i).split(",")[colTheirs]))
                    .isCloseTo(Double.parseDouble(mine.get(i).split(",")[col]), org.assertj.core.data.Offset.offset(
                            1e-9));
        }
    }

    @Test
    void shouldResumeBitForBit(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole");
        Path split = tmp.resolve("split");
        String[] small = {"--steps", "60", "--checkpoint-every", "20", "--icon", "letter-d"};
        assertThat(story(whole, small).exitCode()).isZero();
        String[] first = {"--steps", "40", "--checkpoint-every", "20", "--icon", "letter-d"};
        assertThat(story(split, first).exitCode()).isZero();
        CliRunner.Run r = story(split, "--steps", "60", "--checkpoint-every", "20", "--icon", "letter-d", "--resume");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("resumed from").contains("at step 40");
        assertThat(Files.readAllBytes(split.resolve("origin.descent")))
                .isEqualTo(Files.readAllBytes(whole.resolve("origin.descent")));
        assertThat(Files.readAllBytes(split.resolve("directions.descentd")))
                .isEqualTo(Files.readAllBytes(whole.resolve("directions.descentd")));
        assertThat(Files.readAllLines(split.resolve("training.csv")))
                .isEqualTo(Files.readAllLines(whole.resolve("training.csv")));
    }

    @Test
    void shouldReadTheUsersPngAndNameAnUnreadableIcon(@TempDir Path tmp) throws Exception {
        BufferedImage img = new BufferedImage(70, 70, BufferedImage.TYPE_INT_ARGB); // transparent = light
        Graphics2D g = img.createGraphics();
        g.setColor(Color.BLACK);
        g.fillRect(0, 0, 30, 70); // the left 3/7 of the picture is dark
        g.dispose();
        Path png = tmp.resolve("left.png");
        ImageIO.write(img, "png", png.toFile());
        Path out = tmp.resolve("png");
        CliRunner.Run r = story(out, "--icon", png.toString(), "--steps", "20");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.readAllLines(out.resolve("icon.txt"))).containsOnly("###....");
        assertThat(new ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("icon").asText())
                .isEqualTo(png.toString());

        Path junk = tmp.resolve("junk.png");
        Files.writeString(junk, "not an image");
        CliRunner.Run bad = story(tmp.resolve("bad"), "--icon", junk.toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains(junk.toString()).contains("not an image");
        CliRunner.Run missing = story(tmp.resolve("bad"), "--icon", tmp.resolve("nope.png").toString());
        assertThat(missing.err()).contains("nope.png").contains("no such file").contains("heart, smiley, letter-d");
        assertThat(tmp.resolve("bad")).doesNotExist();
    }
}
