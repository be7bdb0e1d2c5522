package dev.descent.sdk;

/**
 * Loss and accuracy of a network on a set of examples, in eval mode ({@link Network#evaluate}).
 *
 * @param loss     mean loss over the examples
 * @param accuracy fraction classified correctly, 0..1
 * @param examples how many examples were evaluated
 * @param seconds  time the evaluation took
 */
public record Evaluation(double loss, double accuracy, int examples, double seconds) {
}
