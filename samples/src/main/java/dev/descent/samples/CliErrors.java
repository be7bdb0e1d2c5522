package dev.descent.samples;

import picocli.CommandLine;

/**
 * Turns expected failures (bad input, missing data, incompatible files) into a one-line message with exit
 * code 2; anything else keeps its stack trace, since it is a bug worth reporting.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    /**
     * Bad input or environment: the message says what to fix, a stack trace would only hide it. The SDK reports
     * every request it cannot carry out (missing or malformed data and model files, a plan that does not fit its data,
     * a diverging loss) as a {@link dev.descent.sdk.DescentException}.
     */
    static boolean isUserError(Throwable ex) {
        return ex instanceof UserError || ex instanceof IllegalArgumentException
                || ex instanceof java.io.FileNotFoundException || ex instanceof java.nio.file.NoSuchFileException
                || ex instanceof dev.descent.sdk.DescentException;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
        if (isUserError(ex)) {
            cmd.getErr().println(cmd.getColorScheme().errorText("descent " + cmd.getCommandName() + ": "
                    + ex.getMessage()));
            return 2;
        }
        cmd.getErr().println("descent " + cmd.getCommandName() + ": unexpected failure: " + ex);
        ex.printStackTrace(cmd.getErr());
        return 1;
    }
}
