package dev.descent.engine.nn;

import java.util.List;

/** A module made of other modules (Residual, TransformerBlock, PerToken): lets tools visit nested layers. */
public interface CompositeModule extends Module {
    /** The directly nested modules, in execution order. */
    List<Module> children();

    /**
     * Declares the nested tensors under the top-level module's index {@code topIndex}, with kinds prefixed by
     * {@code prefix} (e.g. {@code transformer/0.residual/1.attention}), so that the layout groups them with the
     * model-level module that owns them.
     */
    void declareParameters(ParameterLayout.Builder layout, int topIndex, String prefix);
}
