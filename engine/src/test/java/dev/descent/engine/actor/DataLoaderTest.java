package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.train.BatchAssembler;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The loader in sync mode (every worker gets every batch): slots freed by a step's last release are filled on a
 * later first release or when a pull needs them, and every batch still arrives in order with the direct trainer's
 * rows.
 */
class DataLoaderTest {
    private static final int BATCH = 3;
    private static final long SEED = 7;
    private static ActorTestKit kit;
    private static Dataset data;

    @BeforeAll
    static void setUp() {
        kit = ActorTestKit.create();
        data = Fixtures.blobs("loader", 20, 4, 2, 3); // 7 batches per epoch, the last of 2 rows
    }

    @AfterAll
    static void tearDown() {
        kit.shutdownTestKit();
        data.close();
    }

    @Test
    void shouldServeEveryBatchInOrderWithItsRowsWhateverTheOrderOfReleases() {
        try (DataLoader.Pool pool = new DataLoader.Pool(3, BATCH, data.featureSize());
             BatchAssembler expected = new BatchAssembler(data, BATCH, SEED)) {
            ActorRef<DataLoader.Command> loader = kit.spawn(DataLoader.create(data, BATCH, SEED, pool, 2, 2, 0, 10));
            TestProbe<Worker.Command> w0 = kit.createTestProbe();
            TestProbe<Worker.Command> w1 = kit.createTestProbe();
            // each worker holds the step's batch and the next one, as Worker does
            int[] s0 = {pull(loader, 0, w0, 0, pool, expected), pull(loader, 0, w0, 1, pool, expected)};
            int[] s1 = {pull(loader, 1, w1, 0, pool, expected), pull(loader, 1, w1, 1, pool, expected)};
            assertThat(s1).containsExactly(s0);
            for (long seq = 2; seq < 10; seq++) {
                int done = (int) (seq - 2) % 2; // s0[done] holds batch seq - 2, which both workers are done with
                // its first release fills the slot freed a step earlier, its last release fills nothing; which
                // worker asks first for the next batch alternates
                TestProbe<Worker.Command> first = seq % 2 == 0 ? w0 : w1;
                int firstIndex = seq % 2 == 0 ? 0 : 1;
                loader.tell(new DataLoader.Release(s0[done]));
                loader.tell(new DataLoader.Release(s0[done]));
                int a = pull(loader, firstIndex, first, seq, pool, expected);
                int b = pull(loader, 1 - firstIndex, firstIndex == 0 ? w1 : w0, seq, pool, expected);
                assertThat(b).isEqualTo(a);
                s0[done] = a;
            }
            loader.tell(new DataLoader.Pull(0, w0.getRef()));
            assertThat(w0.receiveMessage()).isEqualTo(Worker.EndOfData.INSTANCE);
            kit.stop(loader);
        }
    }

    @Test
    void shouldFillForAPullWhenEveryReleaseWasALastOne() {
        try (DataLoader.Pool pool = new DataLoader.Pool(3, BATCH, data.featureSize());
             BatchAssembler expected = new BatchAssembler(data, BATCH, SEED)) {
            ActorRef<DataLoader.Command> loader = kit.spawn(DataLoader.create(data, BATCH, SEED, pool, 2, 2, 0, 10));
            TestProbe<Worker.Command> w0 = kit.createTestProbe();
            TestProbe<Worker.Command> w1 = kit.createTestProbe();
            int[] slots = new int[3];
            for (int seq = 0; seq < 3; seq++) { // the three slots filled at start
                slots[seq] = pull(loader, 0, w0, seq, pool, expected);
                assertThat(pull(loader, 1, w1, seq, pool, expected)).isEqualTo(slots[seq]);
            }
            // both workers release batch 0 and then 1 back to back: each slot's second release is its last, its
            // first release came while the other slot was still held (only slot 0 is filled then, with batch 3)
            loader.tell(new DataLoader.Release(slots[0]));
            loader.tell(new DataLoader.Release(slots[0]));
            loader.tell(new DataLoader.Release(slots[1]));
            loader.tell(new DataLoader.Release(slots[1]));
            for (int seq = 3; seq < 5; seq++) { // batch 4 has no slot until worker 0 asks for it
                int s = pull(loader, 0, w0, seq, pool, expected);
                assertThat(pull(loader, 1, w1, seq, pool, expected)).isEqualTo(s);
            }
            kit.stop(loader);
        }
    }

    /** Worker {@code w} pulls and must get batch {@code seq} with the rows the direct trainer would use. */
    private static int pull(ActorRef<DataLoader.Command> loader, int w, TestProbe<Worker.Command> probe, long seq,
                            DataLoader.Pool pool, BatchAssembler expected) {
        loader.tell(new DataLoader.Pull(w, probe.getRef()));
        Worker.BatchReady b = probe.expectMessageClass(Worker.BatchReady.class);
        int perEpoch = expected.batchesPerEpoch();
        assertThat(b.seq()).isEqualTo(seq);
        assertThat(b.epoch()).isEqualTo((int) (seq / perEpoch));
        expected.shuffle(b.epoch());
        int rows = expected.fill((int) (seq % perEpoch));
        assertThat(b.rows()).isEqualTo(rows);
        float[] want = expected.features().asSlice(0, (long) rows * data.featureSize() * Float.BYTES)
                .toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
        float[] got = pool.features(b.slot()).asSlice(0, (long) rows * data.featureSize() * Float.BYTES)
                .toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
        assertThat(got).as("batch %d", seq).containsExactly(want);
        return b.slot();
    }
}
