package dev.descent.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Models;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.optim.OptimizerState;
import dev.descent.engine.optim.Optimizers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Checkpoints written before BatchNorm stored γ itself held γ−1: restoring them adds 1; new ones are taken as is. */
class LegacyScaleCheckpointTest {

    @Test
    void shouldAddOneToBatchNormScalesOfCheckpointsWithoutTheDirectMark() throws Exception {
        try (Model m = Models.resMlp(new int[]{6}, 3, 1, 4, true, 5);
             OptimizerState opt = new OptimizerState(Optimizers.momentum(0.1, 0.9), m);
             TrainingCheckpoint.Staging staging = new TrainingCheckpoint.Staging(m, opt)) {
            ParameterLayout.Entry g = m.layout().entry(m.entriesMatching("*batchnorm.gamma")[0]);
            MemorySegment p = m.params().segment();
            p.setAtIndex(ValueLayout.JAVA_FLOAT, g.offset(), 0.75f); // γ = 0.75, the others 1
            staging.capture(3, Map.of(), m, opt);
            Map<String, String> meta = new LinkedHashMap<>();
            for (CheckpointFile.Section s : staging.sections()) {
                if (s.tag().equals(TrainingCheckpoint.META)) {
                    String text = new String(s.payload().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                    for (String line : text.split("\n")) {
                        meta.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
                    }
                }
            }
            assertThat(meta).containsEntry("scaleParameters", "direct").containsEntry("byteOrder",
                    ByteOrder.nativeOrder().toString());
            byte[] params = p.toArray(ValueLayout.JAVA_BYTE);
            byte[] moments = opt.moments().segment().toArray(ValueLayout.JAVA_BYTE);
            byte[] buffers = MemorySegment.ofArray(m.buffers()).toArray(ValueLayout.JAVA_BYTE);

            p.setAtIndex(ValueLayout.JAVA_FLOAT, g.offset(), 9f);
            new TrainingCheckpoint.Loaded(Path.of("new.dck"), meta, m.spec(), params, moments, buffers)
                    .restoreInto(m, opt);
            assertThat(p.getAtIndex(ValueLayout.JAVA_FLOAT, g.offset())).isEqualTo(0.75f);

            Map<String, String> old = new LinkedHashMap<>(meta);
            old.remove("scaleParameters");
            MemorySegment legacy = MemorySegment.ofArray(params.clone()); // as the old build wrote it: γ−1
            for (int i = 0; i < g.count(); i++) {
                long at = (g.offset() + i) * Float.BYTES;
                legacy.set(ValueLayout.JAVA_FLOAT_UNALIGNED, at, legacy.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at) - 1f);
            }
            new TrainingCheckpoint.Loaded(Path.of("old.dck"), old, m.spec(), legacy.toArray(ValueLayout.JAVA_BYTE),
                    moments, buffers).restoreInto(m, opt);
            assertThat(p.getAtIndex(ValueLayout.JAVA_FLOAT, g.offset())).isEqualTo(0.75f);
            assertThat(p.getAtIndex(ValueLayout.JAVA_FLOAT, g.offset() + 1)).isEqualTo(1f);
        }
    }
}
