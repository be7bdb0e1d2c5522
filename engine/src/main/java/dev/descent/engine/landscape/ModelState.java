package dev.descent.engine.landscape;

import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.CompositeModule;
import dev.descent.engine.nn.Dropout;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Module;
import java.util.ArrayList;
import java.util.List;

/** What a model holds besides its parameter slab (BatchNorm running statistics), and module queries. */
public final class ModelState {
    private ModelState() {
    }

    /** Every BatchNorm of the model, nested ones included, in execution order. */
    public static List<BatchNorm> batchNorms(Model model) {
        List<BatchNorm> out = new ArrayList<>();
        for (Module m : model.layers()) {
            collect(m, BatchNorm.class, out);
        }
        return out;
    }

    public static boolean hasDropout(Model model) {
        List<Dropout> out = new ArrayList<>();
        for (Module m : model.layers()) {
            collect(m, Dropout.class, out);
        }
        return !out.isEmpty();
    }

    private static <T> void collect(Module m, Class<T> type, List<T> out) {
        if (type.isInstance(m)) {
            out.add(type.cast(m));
        } else if (m instanceof CompositeModule c) {
            for (Module child : c.children()) {
                collect(child, type, out);
            }
        }
    }

    /** Copies the running statistics of every BatchNorm of {@code from} into the same BatchNorm of {@code to}. */
    public static void copyBatchNormStatistics(Model from, Model to) {
        List<BatchNorm> a = batchNorms(from);
        List<BatchNorm> b = batchNorms(to);
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("models differ: " + a.size() + " vs " + b.size() + " BatchNorm layers");
        }
        for (int i = 0; i < a.size(); i++) {
            b.get(i).setRunningStatistics(a.get(i).runningMean(), a.get(i).runningVar());
        }
    }
}
