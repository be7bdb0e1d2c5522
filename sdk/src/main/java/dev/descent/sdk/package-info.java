/**
 * Descent's public API: {@link dev.descent.sdk.Descent} starts a {@link dev.descent.sdk.DescentEngine}; describe a
 * run with a {@link dev.descent.sdk.ModelDefinition}, {@link dev.descent.sdk.DataSource}s and a
 * {@link dev.descent.sdk.TrainingPlan}; {@code engine.submit(plan)} returns a {@link dev.descent.sdk.TrainingJob}.
 *
 * <p>Events: jobs report through the engine's event records, {@link dev.descent.engine.event.TrainingEvent}
 * (StepCompleted, GradientStats, EpochCompleted, EvaluationCompleted, BackpropMemory, CheckpointWritten,
 * Anomaly) and {@link dev.descent.engine.event.TrainingListener}. That package is part of this API (re-exported
 * rather than copied, so the monitoring module and user code consume the very records the engine publishes);
 * every other {@code dev.descent.engine} package is internal.
 */
package dev.descent.sdk;
