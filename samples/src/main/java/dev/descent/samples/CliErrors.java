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
     * a diverging loss) as a {@link dev.descent.sdk.DescentException}; commands that read files themselves see an
     * {@link java.io.IOException} (possibly wrapped in an {@link java.io.UncheckedIOException}).
     */
    static boolean isUserError(Throwable ex) {
        if (ex instanceof java.io.UncheckedIOException u && u.getCause() != null) {
            ex = u.getCause(); // a data source opened outside a job (bench train): its IOException, wrapped
        }
        // I/O: missing, unreadable or malformed files (the data readers name the file and what is wrong with it)
        return ex instanceof UserError || ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                || ex instanceof dev.descent.sdk.DescentException;
    }

    /**
     * A bad flag or value: the one-line error and a hint where the help is, not the whole help (which buried the
     * error under 70 lines). Exit code 2, as for other bad input.
     */
    static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        java.io.PrintWriter err = cmd.getErr();
        String name = ("descent " + commandPath(cmd)).strip(); // "descent bench train", or "descent" at the top
        err.println(cmd.getColorScheme().errorText(name + ": " + ex.getMessage()));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + name + " --help' for the options.");
        return 2;
    }

    private static String commandPath(CommandLine cmd) {
        String path = cmd.getCommandSpec().qualifiedName(" ");
        return path.startsWith("descent ") ? path.substring("descent ".length()) : path.equals("descent") ? "" : path;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
        // the whole command path ("descent bench train"), not only the leaf's name
        String name = ("descent " + commandPath(cmd)).strip();
        if (isUserError(ex)) {
            cmd.getErr().println(cmd.getColorScheme().errorText(name + ": " + ex.getMessage()));
            return 2;
        }
        cmd.getErr().println(name + ": unexpected failure: " + ex);
        ex.printStackTrace(cmd.getErr());
        return 1;
    }
}
