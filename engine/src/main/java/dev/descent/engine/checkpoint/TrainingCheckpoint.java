package dev.descent.engine.checkpoint;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.OptimizerState;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * What a training checkpoint holds and how it maps onto a model and its optimizer: sections {@code META}
 * (key=value text: position, seeds, counters), {@code SPEC} (the model spec), {@code PARA} (parameter slab),
 * {@code MOMS} (optimizer moment slab), {@code BUFS} (the model's non-trainable buffers, {@link Model#writeBuffers}:
 * BatchNorm running statistics, mean then variance per layer in execution order). Each is written in the byte order
 * recorded in META and carries its own CRC32C (see {@link CheckpointFile}).
 *
 * <p>{@link Staging} captures a consistent copy while training is paused at a step barrier (a memcpy), so the
 * slow part — writing and fsync — can run while training continues.
 */
public final class TrainingCheckpoint {
    public static final String META = "META";
    public static final String SPEC = "SPEC";
    public static final String PARAMS = "PARA";
    /** META key marking checkpoints whose BatchNorm scales are stored as γ (older ones held γ−1). */
    static final String SCALES_KEY = "scaleParameters";
    static final String SCALES_DIRECT = "direct";
    public static final String MOMENTS = "MOMS";
    public static final String BUFFERS = "BUFS";

    private TrainingCheckpoint() {
    }

    /** Off-heap staging copy of one checkpoint's state; owns three blocks sized for one model. */
    public static final class Staging implements AutoCloseable {
        private final OffHeapBlock params;
        private final OffHeapBlock moments;
        private final OffHeapBlock buffers;
        private final String spec;
        private Map<String, String> meta = Map.of();
        private long step;

        public Staging(Model model, OptimizerState optimizer) {
            this.spec = model.spec();
            this.params = OffHeapBlock.allocate(model.params().byteSize(), Purpose.WORKSPACE);
            OffHeapBlock m = null;
            OffHeapBlock b;
            try {
                m = OffHeapBlock.allocate(optimizer.moments().byteSize(), Purpose.WORKSPACE);
                b = OffHeapBlock.allocateFloats(model.bufferFloats(), Purpose.WORKSPACE);
            } catch (RuntimeException | Error e) {
                params.close();
                if (m != null) {
                    m.close();
                }
                throw e;
            }
            this.moments = m;
            this.buffers = b;
        }

        /** Copies the model's parameters and buffers, the optimizer's moments and {@code meta} (for {@code step}). */
        public void capture(long step, Map<String, String> meta, Model model, OptimizerState optimizer) {
            if (!model.spec().equals(spec)) {
                throw new IllegalArgumentException("staging was sized for another model");
            }
            MemorySegment.copy(model.params().segment(), 0, params.segment(), 0, params.byteSize());
            MemorySegment.copy(optimizer.moments().segment(), 0, moments.segment(), 0, moments.byteSize());
            model.writeBuffers(buffers.segment(), 0);
            Map<String, String> m = new LinkedHashMap<>(meta);
            m.put("format", "descent-training-checkpoint");
            m.put("step", Long.toString(step));
            m.put("optimizerSteps", Long.toString(optimizer.steps()));
            m.put("byteOrder", ByteOrder.nativeOrder().toString());
            m.put(SCALES_KEY, SCALES_DIRECT);
            this.meta = m;
            this.step = step;
        }

        public long step() {
            return step;
        }

        /** The sections of the captured state. */
        public List<CheckpointFile.Section> sections() {
            StringBuilder text = new StringBuilder();
            meta.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
            return List.of(CheckpointFile.Section.ofText(META, text.toString()),
                    CheckpointFile.Section.ofText(SPEC, spec),
                    new CheckpointFile.Section(PARAMS, params.segment()),
                    new CheckpointFile.Section(MOMENTS, moments.segment()),
                    new CheckpointFile.Section(BUFFERS, buffers.segment()));
        }

        @Override
        public void close() {
            params.close();
            moments.close();
            buffers.close();
        }
    }

    /** A checkpoint read back: its metadata and the means to restore it into a model and optimizer. */
    public record Loaded(Path path, Map<String, String> meta, String spec, byte[] params, byte[] moments,
                         byte[] buffers) {
        /** Parses the sections of a verified file; a missing section or a bad META is a {@link CheckpointException}. */
        public static Loaded of(CheckpointDirectory.Found found) throws CheckpointException {
            Map<String, byte[]> s = found.sections();
            for (String tag : List.of(META, SPEC, PARAMS, MOMENTS, BUFFERS)) {
                if (!s.containsKey(tag)) {
                    throw new CheckpointException(found.path(), "section " + tag + " is missing");
                }
            }
            Properties p = new Properties();
            try {
                p.load(new StringReader(new String(s.get(META), StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new CheckpointException(found.path(), "its META section cannot be parsed: " + e.getMessage());
            }
            Map<String, String> meta = new LinkedHashMap<>();
            p.stringPropertyNames().stream().sorted().forEach(k -> meta.put(k, p.getProperty(k)));
            if (!"descent-training-checkpoint".equals(meta.get("format"))) {
                throw new CheckpointException(found.path(), "it is not a training checkpoint (format "
                        + meta.get("format") + ")");
            }
            return new Loaded(found.path(), meta, new String(s.get(SPEC), StandardCharsets.UTF_8), s.get(PARAMS),
                    s.get(MOMENTS), s.get(BUFFERS));
        }

        public long step() {
            return Long.parseLong(meta.get("step"));
        }

        /** A required META value. */
        public String get(String key) throws CheckpointException {
            String v = meta.get(key);
            if (v == null) {
                throw new CheckpointException(path, "META has no '" + key + "'");
            }
            return v;
        }

        /**
         * Restores parameters, buffers, moments and the optimizer's step counter. The model must have the
         * checkpoint's architecture and the optimizer as many moment slabs.
         */
        public void restoreInto(Model model, OptimizerState optimizer) throws CheckpointException {
            if (!spec.equals(model.spec())) {
                throw new CheckpointException(path, "it holds another architecture:\n" + spec + "the model is:\n"
                        + model.spec());
            }
            if (params.length != model.params().byteSize() || moments.length != optimizer.moments().byteSize()) {
                throw new CheckpointException(path, "its slabs (" + params.length + " parameter bytes, "
                        + moments.length + " moment bytes) do not fit the model (" + model.params().byteSize()
                        + ") and optimizer (" + optimizer.moments().byteSize() + ")");
            }
            if (buffers.length != model.bufferFloats() * Float.BYTES) {
                throw new CheckpointException(path, "its " + BUFFERS + " section holds " + buffers.length
                        + " bytes, the model's buffers (BatchNorm running statistics) need "
                        + model.bufferFloats() * Float.BYTES);
            }
            ByteOrder order = "BIG_ENDIAN".equals(meta.get("byteOrder")) ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order);
            MemorySegment.copy(MemorySegment.ofArray(params), f, 0, model.params().segment(), ValueLayout.JAVA_FLOAT,
                    0, params.length / Float.BYTES);
            if (!SCALES_DIRECT.equals(meta.get(SCALES_KEY))) {
                model.upgradeLegacyScales(); // written when BatchNorm stored γ−1
            }
            MemorySegment.copy(MemorySegment.ofArray(moments), f, 0, optimizer.moments().segment(),
                    ValueLayout.JAVA_FLOAT, 0, moments.length / Float.BYTES);
            float[] b = new float[buffers.length / Float.BYTES];
            MemorySegment.copy(MemorySegment.ofArray(buffers), f, 0, b, 0, b.length);
            model.readBuffers(MemorySegment.ofArray(b), 0);
            optimizer.steps(Long.parseLong(get("optimizerSteps")));
        }
    }
}
