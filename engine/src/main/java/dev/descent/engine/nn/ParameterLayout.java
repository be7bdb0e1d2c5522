package dev.descent.engine.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where every parameter tensor of a model lives in the flat parameter slab. The gradient slab and every
 * optimizer-moment slab use the very same layout, so an optimizer step is one flat loop over
 * {@link #totalFloats()} floats and a checkpoint is a copy. Tensors start on 64-byte boundaries (16 floats);
 * the padding between them is zero in every slab and stays zero under every optimizer.
 */
public final class ParameterLayout {
    /** Tensor alignment in floats (64 bytes). */
    public static final int ALIGN_FLOATS = 16;

    /**
     * One tensor.
     *
     * @param layerIndex owning module's index in the model
     * @param layerKind  owning module's kind, e.g. {@code linear}
     * @param name       tensor name within the module, e.g. {@code weight}
     * @param offset     first float in the slab
     * @param count      number of floats
     * @param shape      tensor shape, e.g. {@code [out, in]}
     * @param fanIn      inputs feeding one output unit (for initializers)
     * @param fanOut     outputs fed by one input unit
     * @param bias       true for bias tensors (zero-initialized by default) and the other bias-like tensors of
     *                   normalization layers
     * @param scale      true for a multiplicative scale (BatchNorm's γ): bias-like, but initialized to 1
     */
    public record Entry(int layerIndex, String layerKind, String name, long offset, int count, int[] shape,
                        int fanIn, int fanOut, boolean bias, boolean scale) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** {@code 2:linear.weight}. */
        public String qualifiedName() {
            return layerIndex + ":" + layerKind + "." + name;
        }

        @Override
        public String toString() {
            return qualifiedName() + Arrays.toString(shape) + "@" + offset;
        }
    }

    private final List<Entry> entries;
    private final long totalFloats;
    private final int[] layersWithParameters;

    private ParameterLayout(List<Entry> entries, long totalFloats) {
        this.entries = List.copyOf(entries);
        this.totalFloats = totalFloats;
        this.layersWithParameters = entries.stream().mapToInt(Entry::layerIndex).distinct().toArray();
    }

    public List<Entry> entries() {
        return entries;
    }

    public Entry entry(int index) {
        return entries.get(index);
    }

    /** Slab size in floats, padding included. */
    public long totalFloats() {
        return totalFloats;
    }

    /** Number of trainable scalars (padding excluded). */
    public long parameterCount() {
        long n = 0;
        for (Entry e : entries) {
            n += e.count();
        }
        return n;
    }

    /** Indices of the modules that own parameters, in model order. */
    public int[] layersWithParameters() {
        return layersWithParameters.clone();
    }

    /** Builder used while a model is assembled; each module adds its own tensors. */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();
        private long next;
        private int layerIndex;
        private String layerKind = "";

        /** Sets the module the next tensors belong to (called by the model, not by modules). */
        public void beginLayer(int index, String kind) {
            this.layerIndex = index;
            this.layerKind = kind;
        }

        /**
         * Adds a tensor and returns its index in the layout (what the module keeps to find its offset later).
         */
        public int add(String name, int[] shape, int fanIn, int fanOut, boolean bias) {
            return add(name, shape, fanIn, fanOut, bias, false);
        }

        /**
         * Adds a multiplicative scale tensor (bias-like, fan 1/1) that every model starts at 1 and every
         * initializer leaves at 1; returns its index.
         */
        public int addScale(String name, int[] shape) {
            return add(name, shape, 1, 1, true, true);
        }

        private int add(String name, int[] shape, int fanIn, int fanOut, boolean bias, boolean scale) {
            int count = Module.size(shape);
            if (count <= 0) {
                throw new IllegalArgumentException("parameter " + layerIndex + ":" + layerKind + "." + name
                        + " has shape " + Arrays.toString(shape));
            }
            entries.add(new Entry(layerIndex, layerKind, name, next, count, shape, fanIn, fanOut, bias, scale));
            next += (count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
            return entries.size() - 1;
        }

        public ParameterLayout build() {
            return new ParameterLayout(entries, next);
        }
    }
}
