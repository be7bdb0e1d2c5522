package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.checkpoint.CheckpointDirectory;
import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.checkpoint.CheckpointFile;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Models;
import dev.descent.engine.train.EpochReport;
import dev.descent.engine.train.TrainingResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointResumeTest {
    private static ActorTestKit kit;
    private static Dataset train;
    private static Dataset test;
    private static String uninterrupted;

    @BeforeAll
    static void setUp() throws Exception {
        kit = ActorTestKit.create();
        train = Fixtures.blobs("train", 600, 20, 3, 1);
        test = Fixtures.blobs("test", 230, 20, 3, 2);
        try (Model m = Fixtures.mlp(0.1)) {
            uninterrupted = Fixtures.run(kit, Fixtures.spec(m, train, test).workers(2)).parametersSha256();
        }
    }

    @AfterAll
    static void tearDown() {
        kit.shutdownTestKit();
        train.close();
        test.close();
    }

    /** The job of these tests: two workers (deterministic sync mode), a checkpoint every 7 steps, keep 2. */
    static JobSpec checkpointed(JobSpec spec, Path dir) {
        return spec.workers(2).checkpointDir(dir).checkpointEverySteps(7).keepCheckpoints(2).resume(true);
    }

    private void crashAtStep(Path dir, long step) throws Exception {
        crashAtStep(dir, step, () -> Fixtures.mlp(0.1));
    }

    private void crashAtStep(Path dir, long step, Supplier<Model> model) throws Exception {
        try (Model m = model.get()) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, checkpointed(Fixtures.spec(m, train, test), dir)
                    .maxRetries(0).faults((w, s, a) -> {
                        if (s == step) {
                            throw new IllegalStateException("crash");
                        }
                    }), new JobStatus());
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).hasRootCauseMessage("crash");
        }
    }

    @Test
    void shouldResumeMidEpochAndEndWithTheParametersOfAnUninterruptedRun(@TempDir Path dir) throws Exception {
        crashAtStep(dir, 20);
        List<Path> files = new CheckpointDirectory(dir, 2).list();
        assertThat(files).extracting(p -> p.getFileName().toString())
                .containsExactly("checkpoint-000000000007.dck", "checkpoint-000000000014.dck");
        try (Model m = Fixtures.mlp(0.1)) {
            TrainingResult r = Fixtures.run(kit, checkpointed(Fixtures.spec(m, train, test), dir));
            assertThat(r.parametersSha256()).isEqualTo(uninterrupted);
            assertThat(r.steps()).isEqualTo(30);
            assertThat(r.epochs()).hasSize(3);
        }
    }

    /** A residual MLP with BatchNorm in both blocks: its running statistics are state that evaluation uses. */
    private static Model resMlp() {
        return Models.resMlp(new int[]{20}, 3, 2, 16, true, 7);
    }

    private static List<Long> testLossBits(TrainingResult r) {
        return r.epochs().stream().map(EpochReport::testLoss).map(Double::doubleToRawLongBits).toList();
    }

    @Test
    void shouldResumeABatchNormModelWithItsRunningStatisticsBitIdentically(@TempDir Path dir) throws Exception {
        String params;
        float[] stats;
        List<Long> losses;
        try (Model m = resMlp()) {
            assertThat(m.bufferFloats()).isEqualTo(2 * 2 * 2 * 16);
            TrainingResult r = Fixtures.run(kit, Fixtures.spec(m, train, test).workers(2));
            params = r.parametersSha256();
            stats = m.buffers();
            losses = testLossBits(r);
        }
        crashAtStep(dir, 20, CheckpointResumeTest::resMlp);
        try (Model m = resMlp()) {
            TrainingResult r = Fixtures.run(kit, checkpointed(Fixtures.spec(m, train, test), dir));
            assertThat(r.steps()).isEqualTo(30);
            assertThat(r.parametersSha256()).isEqualTo(params);
            assertThat(m.buffers()).as("running statistics after resume").containsExactly(stats);
            assertThat(testLossBits(r)).as("test loss bits per epoch (eval mode uses the statistics)")
                    .isEqualTo(losses);
        }
    }

    @Test
    void shouldDetectACorruptedCheckpointAndUseThePreviousOne(@TempDir Path dir) throws Exception {
        crashAtStep(dir, 20);
        Path newest = dir.resolve("checkpoint-000000000014.dck");
        try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
            long at = f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x10);
        }
        assertThatThrownBy(() -> CheckpointFile.read(newest)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(newest.toString()).hasMessageContaining("CRC32C");
        Fixtures.Recorder events = new Fixtures.Recorder();
        try (Model m = Fixtures.mlp(0.1)) {
            TrainingResult r = Fixtures.run(kit, checkpointed(Fixtures.spec(m, train, test), dir).listener(events));
            assertThat(r.parametersSha256()).isEqualTo(uninterrupted);
        }
        assertThat(events.of(TrainingEvent.Anomaly.class)).anySatisfy(a -> assertThat(a.message())
                .contains("checkpoint-000000000014.dck", "previous checkpoint"));
        assertThat(events.of(TrainingEvent.StepCompleted.class).get(0).step()).isEqualTo(8);
    }

    @Test
    void shouldDetectATruncatedCheckpointNamingTheFile(@TempDir Path dir) throws Exception {
        crashAtStep(dir, 9);
        Path only = dir.resolve("checkpoint-000000000007.dck");
        byte[] all = Files.readAllBytes(only);
        Files.write(only, java.util.Arrays.copyOf(all, all.length - 100));
        assertThatThrownBy(() -> CheckpointFile.read(only)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(only.toString()).hasMessageContaining("truncated");
        // no usable checkpoint left: resuming is an error naming the folder (never a silent restart from step 0)
        try (Model m = Fixtures.mlp(0.1)) {
            assertThatThrownBy(() -> Fixtures.run(kit, checkpointed(Fixtures.spec(m, train, test), dir)))
                    .hasMessageContaining(dir.toString()).hasMessageContaining("none of its 1 checkpoint file(s)");
        }
        Files.delete(only); // the user moves it away: the run starts from scratch and ends where it should
        try (Model m = Fixtures.mlp(0.1)) {
            assertThat(Fixtures.run(kit, checkpointed(Fixtures.spec(m, train, test), dir)).parametersSha256())
                    .isEqualTo(uninterrupted);
        }
    }

    @Test
    void shouldResumeARunKilledWithSigkillMidEpoch(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                KillableRun.class.getName(), dir.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        long killedAfter = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("CHECKPOINT ") && Long.parseLong(line.substring(11)) >= 14) {
                    killedAfter = Long.parseLong(line.substring(11));
                    p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no flush
                    break;
                }
                assertThat(line).doesNotContain("FINISHED");
            }
        } finally {
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(killedAfter).isEqualTo(14);
        assertThat(p.exitValue()).isEqualTo(137);
        long resumedFrom = CheckpointDirectory.stepOf(new CheckpointDirectory(dir, 2).list().getLast());
        assertThat(resumedFrom).isBetween(14L, 29L).matches(s -> s % 10 != 0, "mid-epoch");
        Fixtures.Recorder events = new Fixtures.Recorder();
        try (Model m = Fixtures.mlp(0.1)) {
            TrainingResult r = Fixtures.run(kit, checkpointed(Fixtures.spec(m, train, test), dir).listener(events));
            assertThat(r.parametersSha256()).isEqualTo(uninterrupted);
        }
        assertThat(events.of(TrainingEvent.StepCompleted.class).get(0).step()).isEqualTo(resumedFrom + 1);
    }
}
