/**
 * Toy objectives for optimizer stories that run in seconds: low-dimensional landscapes with a real finite-sum
 * structure f(x) = (1/n) Σ_i f_i(x), so the noise of a mini-batch gradient is the noise SGD really has (not added
 * Gaussian noise), and the runners that follow them with full-batch gradient descent or mini-batch SGD.
 *
 * <pre>{@code
 * Objective f = TwoBasins.standard().objective(64, 0.2, 1);           // or Objective.shifted(mySurface, ...)
 * double[] narrow = ToyDescent.minimum(f, TwoBasins.standard().narrowCentre(), 0.02);
 * ToyTrajectory gd = ToyDescent.run(f, narrow, 0.15, f.terms(), 400, 7); // full batch
 * ToyTrajectory sgd = ToyDescent.run(f, narrow, 0.15, 1, 400, 7);       // one term per step
 * }</pre>
 */
package dev.descent.sdk.toy;
