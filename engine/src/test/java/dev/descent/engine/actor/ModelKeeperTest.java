package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterSnapshot;
import dev.descent.engine.train.ModelFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The last-good keeper alone: what it copies when, which files it writes from what, and its failures. */
class ModelKeeperTest {
    private static ActorTestKit kit;

    @BeforeAll
    static void setUp() {
        kit = ActorTestKit.create();
    }

    @AfterAll
    static void tearDown() {
        kit.shutdownTestKit();
    }

    private static void perturb(Model m, float by) {
        var s = m.params().segment();
        for (long i = 0; i < m.params().floatCount(); i++) {
            s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i,
                    s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i) + by);
        }
    }

    private static String sha(Path file) throws Exception {
        try (Model m = ModelFile.read(file)) {
            return m.parametersSha256();
        }
    }

    @Test
    void shouldWriteTheSnapshotNotTheModelTrainingChanges(@TempDir Path dir) throws Exception {
        try (Model m = Fixtures.mlp(0.0); ParameterSnapshot lastGood = m.snapshot()) {
            String start = m.parametersSha256();
            perturb(m, 0.25f); // training goes on while the start point is written
            TestProbe<ModelKeeper.Reply> probe = kit.createTestProbe();
            ActorRef<ModelKeeper.Command> keeper = kit.spawn(ModelKeeper.create(m, lastGood, dir.resolve("model.descent"),
                    dir.resolve("trajectory")));
            keeper.tell(new ModelKeeper.WritePoint(0, probe.getRef()));
            assertThat(probe.receiveMessage()).isEqualTo(new ModelKeeper.Kept(0));
            assertThat(sha(dir.resolve("trajectory/epoch-000.descent"))).isEqualTo(start);
            assertThat(dir.resolve("model.descent")).doesNotExist();

            String epoch1 = m.parametersSha256(); // paused at the end of epoch 1
            keeper.tell(new ModelKeeper.Keep(1, probe.getRef()));
            assertThat(probe.receiveMessage()).isEqualTo(new ModelKeeper.Kept(1));
            assertThat(sha(dir.resolve("trajectory/epoch-001.descent"))).isEqualTo(epoch1);
            assertThat(sha(dir.resolve("model.descent"))).isEqualTo(epoch1);
            assertThat(Files.readAllBytes(dir.resolve("model.descent")))
                    .isEqualTo(Files.readAllBytes(dir.resolve("trajectory/epoch-001.descent")));

            perturb(m, Float.NaN); // the run diverges
            keeper.tell(new ModelKeeper.Restore(probe.getRef()));
            assertThat(probe.receiveMessage()).isEqualTo(new ModelKeeper.Restored(null));
            assertThat(m.parametersSha256()).isEqualTo(epoch1);
            assertThat(sha(dir.resolve("model.descent"))).isEqualTo(epoch1);
            kit.stop(keeper);
        }
    }

    @Test
    void shouldWriteTheSameBytesAsSavingTheModel(@TempDir Path dir) throws Exception {
        try (Model m = Fixtures.mlp(0.1); ParameterSnapshot s = m.snapshot()) {
            ModelFile.save(m, dir.resolve("a.descent"));
            ModelFile.save(s, dir.resolve("b.descent"));
            assertThat(Files.readAllBytes(dir.resolve("b.descent"))).isEqualTo(Files.readAllBytes(dir.resolve("a.descent")));
        }
    }

    @Test
    void shouldReportAFileItCannotWriteAndStillRestore(@TempDir Path dir) throws Exception {
        Path blocked = dir.resolve("not-a-folder");
        Files.writeString(blocked, "a file where a folder should be");
        try (Model m = Fixtures.mlp(0.0); ParameterSnapshot lastGood = m.snapshot()) {
            String start = m.parametersSha256();
            TestProbe<ModelKeeper.Reply> probe = kit.createTestProbe();
            ActorRef<ModelKeeper.Command> keeper = kit.spawn(ModelKeeper.create(m, lastGood,
                    blocked.resolve("model.descent"), blocked.resolve("trajectory")));
            keeper.tell(new ModelKeeper.Keep(2, probe.getRef()));
            ModelKeeper.WriteFailed f = (ModelKeeper.WriteFailed) probe.receiveMessage();
            assertThat(f.epoch()).isEqualTo(2);
            assertThat(f.cause()).hasMessageContaining("cannot save the model file").hasMessageContaining("model.descent");
            perturb(m, 1f);
            keeper.tell(new ModelKeeper.Restore(probe.getRef()));
            ModelKeeper.Restored r = (ModelKeeper.Restored) probe.receiveMessage();
            assertThat(r.writeError()).isNotNull();
            assertThat(m.parametersSha256()).as("kept at Keep(2) although its files failed").isEqualTo(start);
            kit.stop(keeper);
        }
    }
}
