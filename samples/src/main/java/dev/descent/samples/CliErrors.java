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

    /**
     * A bad flag or value: the one-line error and a hint where the help is, not the whole help (which buried the
     * error under 70 lines). Exit code 2, as for other bad input.
     */
    static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        java.io.PrintWriter err = cmd.getErr();
        err.println(cmd.getColorScheme().errorText("descent " + commandPath(cmd) + ": " + ex.getMessage()));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try 'descent " + commandPath(cmd) + " --help' for the options.");
        return 2;
    }

    private static String commandPath(CommandLine cmd) {
        String path = cmd.getCommandSpec().qualifiedName(" ");
        return path.startsWith("descent ") ? path.substring("descent ".length()) : path.equals("descent") ? "" : path;
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
