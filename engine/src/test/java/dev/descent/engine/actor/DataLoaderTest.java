package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.train.BatchAssembler;
import java.lang.foreign.ValueLayout;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
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

    private DataLoader.Pool pool;
    private BatchAssembler expected;
    private ActorRef<DataLoader.Command> loader;
    private TestProbe<Worker.Command> w0;
    private TestProbe<Worker.Command> w1;

    /** A sync loader of batches 0..9 for 2 workers over 3 slots, and the trainer's own batches to compare with. */
    @BeforeEach
    void startLoader() {
        pool = new DataLoader.Pool(3, BATCH, data.featureSize());
        expected = new BatchAssembler(data, BATCH, SEED);
        loader = kit.spawn(DataLoader.create(data, BATCH, SEED, pool, 2, 2, 0, 10));
        w0 = kit.createTestProbe();
        w1 = kit.createTestProbe();
    }

    @AfterEach
    void stopLoader() {
        kit.stop(loader);
        expected.close();
        pool.close();
    }

    @Test
    void shouldServeEveryBatchInOrderWithItsRowsWhateverTheOrderOfReleases() {
        // each worker holds the step's batch and the next one, as Worker does
        int[] slots = {pull(0, w0, 0), pull(0, w0, 1)};
        assertThat(new int[]{pull(1, w1, 0), pull(1, w1, 1)}).containsExactly(slots);
        for (long seq = 2; seq < 10; seq++) {
            int done = (int) (seq - 2) % 2; // slots[done] holds batch seq - 2, which both workers are done with
            // its first release fills the slot freed a step earlier, its last release fills nothing; which worker
            // asks first for the next batch alternates
            loader.tell(new DataLoader.Release(slots[done]));
            loader.tell(new DataLoader.Release(slots[done]));
            boolean w0First = seq % 2 == 0;
            int a = w0First ? pull(0, w0, seq) : pull(1, w1, seq);
            int b = w0First ? pull(1, w1, seq) : pull(0, w0, seq);
            assertThat(b).isEqualTo(a);
            slots[done] = a;
        }
        loader.tell(new DataLoader.Pull(0, w0.getRef()));
        assertThat(w0.receiveMessage()).isEqualTo(Worker.EndOfData.INSTANCE);
    }

    @Test
    void shouldFillForAPullWhenEveryReleaseWasALastOne() {
        int[] slots = new int[3];
        for (int seq = 0; seq < 3; seq++) { // the three slots filled at start
            slots[seq] = pull(0, w0, seq);
            assertThat(pull(1, w1, seq)).isEqualTo(slots[seq]);
        }
        // both workers release batch 0 and then 1 back to back: each slot's second release is its last, its first
        // release came while the other slot was still held (only slot 0 is filled then, with batch 3)
        loader.tell(new DataLoader.Release(slots[0]));
        loader.tell(new DataLoader.Release(slots[0]));
        loader.tell(new DataLoader.Release(slots[1]));
        loader.tell(new DataLoader.Release(slots[1]));
        for (int seq = 3; seq < 5; seq++) { // batch 4 has no slot until worker 0 asks for it
            int s = pull(0, w0, seq);
            assertThat(pull(1, w1, seq)).isEqualTo(s);
        }
    }

    /** Worker {@code w} pulls and must get batch {@code seq} with the rows the direct trainer would use. */
    private int pull(int w, TestProbe<Worker.Command> probe, long seq) {
        loader.tell(new DataLoader.Pull(w, probe.getRef()));
        Worker.BatchReady b = probe.expectMessageClass(Worker.BatchReady.class);
        int perEpoch = expected.batchesPerEpoch();
        assertThat(b.seq()).isEqualTo(seq);
        assertThat(b.epoch()).isEqualTo((int) (seq / perEpoch));
        expected.shuffle(b.epoch());
        int rows = expected.fill((int) (seq % perEpoch));
        assertThat(b.rows()).isEqualTo(rows);
        long bytes = (long) rows * data.featureSize() * Float.BYTES;
        assertThat(pool.features(b.slot()).asSlice(0, bytes).toArray(ValueLayout.JAVA_FLOAT)).as("batch %d", seq)
                .containsExactly(expected.features().asSlice(0, bytes).toArray(ValueLayout.JAVA_FLOAT));
        return b.slot();
    }
}
