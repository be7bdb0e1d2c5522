package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.checkpoint.CheckpointDirectory;
import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.TrainingResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault-injection suite: SIGKILL at seeded random steps, a damaged byte in every header field and section of a
 * checkpoint, truncations, no readable checkpoint, an unwritable folder, a full disk (an injected write fault),
 * workers that throw or stall in sync and async mode. Each asserts that nothing is lost beyond one checkpoint
 * interval (a resumed run ends with the parameters of an uninterrupted one), a message that names the file or
 * the step, and the failure the caller sees.
 */
class FaultInjectionTest {
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

    private static void crashAtStep(Path dir, long step) throws Exception {
        try (Model m = Fixtures.mlp(0.1)) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, CheckpointResumeTest.checkpointed(
                    Fixtures.spec(m, train, test), dir).maxRetries(0).faults((w, s, a) -> {
                        if (s == step) {
                            throw new IllegalStateException("crash");
                        }
                    }), new JobStatus());
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).hasRootCauseMessage("crash");
        }
    }

    private static TrainingResult resume(Path dir, Fixtures.Recorder events) throws Exception {
        try (Model m = Fixtures.mlp(0.1)) {
            return Fixtures.run(kit, CheckpointResumeTest.checkpointed(Fixtures.spec(m, train, test), dir)
                    .listener(events));
        }
    }

    /** Offsets of every header field and section part of a checkpoint file, by name. */
    private static Map<String, Integer> layout(byte[] file) {
        Map<String, Integer> at = new LinkedHashMap<>();
        at.put("magic", 0);
        at.put("version", 8);
        at.put("section count", 12);
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int count = b.getInt(12);
        int pos = 16;
        for (int i = 0; i < count; i++) {
            String tag = new String(file, pos, 4, StandardCharsets.US_ASCII);
            long length = b.getLong(pos + 4);
            at.put(tag + " tag", pos);
            at.put(tag + " length", pos + 4);
            at.put(tag + " length (high byte)", pos + 11);
            at.put(tag + " crc", pos + 12);
            if (length > 0) {
                at.put(tag + " payload", pos + 16 + (int) (length / 2));
            }
            pos += 16 + (int) length;
        }
        at.put("end marker", pos);
        return at;
    }

    @Test
    void shouldFallBackWhenAnyHeaderFieldOrSectionOfTheNewestCheckpointIsDamaged(@TempDir Path tmp) throws Exception {
        Path original = tmp.resolve("original");
        crashAtStep(original, 20);
        Path newest = original.resolve("checkpoint-000000000014.dck");
        byte[] bytes = Files.readAllBytes(newest);
        Map<String, Integer> layout = layout(bytes);
        assertThat(layout).containsKeys("META tag", "PARA payload", "MOMS crc", "end marker");
        int n = 0;
        for (Map.Entry<String, Integer> field : layout.entrySet()) {
            Path dir = tmp.resolve("case-" + n++);
            Files.createDirectories(dir);
            for (Path f : new CheckpointDirectory(original, 2).list()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
            byte[] damaged = bytes.clone();
            damaged[field.getValue()] ^= (byte) (field.getKey().endsWith("(high byte)") ? 0x40 : 0x5a);
            Files.write(dir.resolve(newest.getFileName()), damaged);
            Fixtures.Recorder events = new Fixtures.Recorder();
            TrainingResult r = resume(dir, events);
            assertThat(r.parametersSha256()).as("damaged " + field.getKey()).isEqualTo(uninterrupted);
            assertThat(events.of(TrainingEvent.StepCompleted.class).getFirst().step()).as(field.getKey())
                    .isEqualTo(8); // resumed from the previous checkpoint (step 7): one interval lost at most
            assertThat(events.of(TrainingEvent.Anomaly.class)).as(field.getKey()).anySatisfy(a -> assertThat(
                    a.message()).contains("checkpoint-000000000014.dck", "previous checkpoint"));
        }
    }

    @Test
    void shouldFallBackOnTruncationsAtSeededRandomLengths(@TempDir Path tmp) throws Exception {
        Path original = tmp.resolve("original");
        crashAtStep(original, 20);
        Path newest = original.resolve("checkpoint-000000000014.dck");
        byte[] bytes = Files.readAllBytes(newest);
        SplittableRandom random = new SplittableRandom(18);
        for (int i = 0; i < 4; i++) {
            int length = i == 0 ? 0 : random.nextInt(bytes.length);
            Path dir = tmp.resolve("cut-" + i);
            Files.createDirectories(dir);
            for (Path f : new CheckpointDirectory(original, 2).list()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
            Files.write(dir.resolve(newest.getFileName()), java.util.Arrays.copyOf(bytes, length));
            Fixtures.Recorder events = new Fixtures.Recorder();
            assertThat(resume(dir, events).parametersSha256()).as("cut at " + length).isEqualTo(uninterrupted);
            assertThat(events.of(TrainingEvent.StepCompleted.class).getFirst().step()).isEqualTo(8);
        }
    }

    @Test
    void shouldRefuseToResumeWhenNoCheckpointCanBeRead(@TempDir Path dir) throws Exception {
        crashAtStep(dir, 20);
        for (Path f : new CheckpointDirectory(dir, 2).list()) {
            byte[] b = Files.readAllBytes(f);
            b[20] ^= 0x11; // damage every META tag
            Files.write(f, b);
        }
        try (Model m = Fixtures.mlp(0.1)) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, CheckpointResumeTest.checkpointed(
                    Fixtures.spec(m, train, test), dir), new JobStatus());
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(CheckpointException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("none of its 2 checkpoint file(s)");
        }
    }

    @Test
    void shouldRefuseToResumeWithAnotherWorkerCount(@TempDir Path dir) throws Exception {
        crashAtStep(dir, 20);
        try (Model m = Fixtures.mlp(0.1)) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, CheckpointResumeTest.checkpointed(
                    Fixtures.spec(m, train, test), dir).workers(1), new JobStatus());
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(CheckpointException.class)
                    .hasMessageContaining("workers 2, this run has 1");
        }
    }

    @Test
    void shouldFailLoudlyWhenTheCheckpointFolderIsUnwritable(@TempDir Path tmp) throws Exception {
        Path notAFolder = tmp.resolve("checkpoints");
        Files.writeString(notAFolder, "a file where the folder should be"); // unwritable even for root
        Fixtures.Recorder events = new Fixtures.Recorder();
        try (Model m = Fixtures.mlp(0.1)) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, Fixtures.spec(m, train, test).workers(2)
                    .checkpointDir(notAFolder).checkpointEverySteps(3).listener(events), new JobStatus());
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(CheckpointException.class)
                    .hasMessageContaining("failed 3 times in a row");
        }
        assertThat(events.of(TrainingEvent.Anomaly.class)).hasSize(JobSupervisor.MAX_FAILED_CHECKPOINT_WRITES)
                .allSatisfy(a -> assertThat(a.kind()).isEqualTo("checkpoint-failed"));
        assertThat(events.of(TrainingEvent.StepCompleted.class).getLast().step()).isLessThan(30);
    }

    @Test
    void shouldStopOnAFullDiskAndResumeFromTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Fixtures.Recorder events = new Fixtures.Recorder();
        try (Model m = Fixtures.mlp(0.1)) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, CheckpointResumeTest.checkpointed(
                    Fixtures.spec(m, train, test), dir).listener(events).faults(new FaultInjector() {
                        @Override
                        public void beforeShard(int worker, long step, int attempt) {
                        }

                        @Override
                        public void beforeCheckpointWrite(long step) throws IOException {
                            if (step >= 14) {
                                throw new IOException("No space left on device");
                            }
                        }
                    }), new JobStatus());
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).hasMessageContaining("No space left on device")
                    .hasMessageContaining("checkpoint-000000000028.dck");
        }
        assertThat(new CheckpointDirectory(dir, 2).list()).extracting(p -> p.getFileName().toString())
                .containsExactly("checkpoint-000000000007.dck");
        Fixtures.Recorder resumed = new Fixtures.Recorder();
        assertThat(resume(dir, resumed).parametersSha256()).isEqualTo(uninterrupted);
        assertThat(resumed.of(TrainingEvent.StepCompleted.class).getFirst().step()).isEqualTo(8);
    }

    @Test
    void shouldFailAWorkerThatKeepsThrowingNamingItInSyncAndAsyncMode() throws Exception {
        for (JobSpec.Mode mode : JobSpec.Mode.values()) {
            // sync: every worker takes a shard of every step, so worker 1 meets step 5. Async: whichever worker
            // asks first takes the next batch, and on a loaded machine worker 0 may take every batch from 5 on
            // (the job then legitimately succeeds), so worker 1 fails from its first batch, which it always gets
            long failFrom = mode == JobSpec.Mode.SYNC ? 5 : 0;
            try (Model m = Fixtures.mlp(0.1)) {
                CompletableFuture<TrainingResult> f = Fixtures.start(kit, Fixtures.spec(m, train, test).workers(2)
                        .mode(mode).maxRetries(1).faults((w, s, a) -> {
                            if (w == 1 && s >= failFrom) {
                                throw new IllegalStateException("injected failure");
                            }
                        }), new JobStatus());
                assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).as(mode.name())
                        .hasMessageContaining("worker 1").hasRootCauseMessage("injected failure");
            }
        }
    }

    /**
     * The watchdog fails the job (state FAILED, visible at once) well before the stall ends; the result completes
     * when the stalled worker lets go of the job's memory, which it must before that memory is freed.
     */
    @Test
    void shouldFailAStalledWorkerWithinTheStepTimeoutInSyncAndAsyncMode() throws Exception {
        for (JobSpec.Mode mode : JobSpec.Mode.values()) {
            try (Model m = Fixtures.mlp(0.1)) {
                JobStatus status = new JobStatus();
                // async with one worker: with two, the healthy one may finish the whole job inside the timeout
                // while the other stalls (legitimately SUCCEEDED, timing-dependent), so the watchdog is not tested
                CompletableFuture<TrainingResult> f = Fixtures.start(kit, Fixtures.spec(m, train, test)
                        .workers(mode == JobSpec.Mode.ASYNC ? 1 : 2)
                        .mode(mode).stepTimeout(Duration.ofMillis(400)).faults((w, s, a) -> {
                            if (w == 0 && s == 4) {
                                Thread.sleep(3_000); // stalls (bounded, so the test ends cleanly)
                            }
                        }), status);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2_500);
                while (status.state != JobStatus.State.FAILED && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(status.state).as(mode.name() + ": failed by the watchdog during the stall")
                        .isEqualTo(JobStatus.State.FAILED);
                assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).as(mode.name())
                        .hasCauseInstanceOf(TimeoutException.class).hasMessageContaining("within PT0.4S");
            }
        }
    }

    /** SIGKILL of a child JVM at seeded random steps (bounded: two kills), then a resume to the same parameters. */
    @Test
    void shouldResumeAfterSigkillAtSeededRandomSteps(@TempDir Path tmp) throws Exception {
        SplittableRandom random = new SplittableRandom(2026);
        for (int k = 0; k < 2; k++) {
            long killAt = 9 + random.nextInt(18); // a step in [9, 26]: after the first checkpoint, before the end
            Path dir = tmp.resolve("kill-" + k);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                    "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                    KillableRun.class.getName(), dir.toString(), "steps"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            long killedAt = -1;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("STEP ") && Long.parseLong(line.substring(5)) >= killAt) {
                        killedAt = Long.parseLong(line.substring(5));
                        p.destroyForcibly(); // SIGKILL
                        break;
                    }
                }
            } finally {
                p.destroyForcibly();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(killedAt).as("killed at step " + killAt).isGreaterThanOrEqualTo(killAt);
            Fixtures.Recorder events = new Fixtures.Recorder();
            assertThat(resume(dir, events).parametersSha256()).isEqualTo(uninterrupted);
            long resumedAt = events.of(TrainingEvent.StepCompleted.class).getFirst().step() - 1;
            assertThat(killedAt - resumedAt).as("steps lost").isLessThanOrEqualTo(7 + 1);
        }
    }
}
