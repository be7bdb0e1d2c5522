package dev.descent.samples;

import dev.descent.samples.cli.BackpropCommand;
import dev.descent.samples.cli.BenchCommand;
import dev.descent.samples.cli.DataCommand;
import dev.descent.samples.cli.MonitorCommand;
import dev.descent.samples.cli.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code descent} command line: one subcommand per story, plus data and benchmark tools. */
@Command(name = "descent",
        mixinStandardHelpOptions = true,
        version = "descent 0.1.0-SNAPSHOT",
        description = "Train neural networks in pure Java and see what happens inside their optimization.",
        subcommands = {
            DataCommand.class,
            TrainCommand.class,
            dev.descent.samples.cli.NodeCommand.class,
            BackpropCommand.class,
            MonitorCommand.class,
            BenchCommand.class,
            dev.descent.samples.cli.LandscapeCommand.class,
            dev.descent.samples.cli.StoryCommand.class,
            dev.descent.samples.cli.TuneCommand.class,
            dev.descent.samples.cli.AotTrainingCommand.class,
            CommandLine.HelpCommand.class
        })
public final class DescentCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Every command has it (inherited): writing into an --out folder that holds an earlier run's results. */
    @CommandLine.Option(names = "--overwrite", scope = CommandLine.ScopeType.INHERIT,
            description = "write into an --out folder that already holds results (replacing them)")
    void overwrite(boolean allow) {
        OutputDir.allowOverwrite(allow);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the command line with the project's exception handling (clean one-line errors for bad input). */
    public static CommandLine commandLine() {
        OutputDir.allowOverwrite(false);
        CommandLine cl = new CommandLine(new DescentCli());
        cl.setExecutionExceptionHandler(new CliErrors());
        cl.setParameterExceptionHandler(CliErrors::handleParameterException);
        return cl;
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        System.exit(code);
    }
}
