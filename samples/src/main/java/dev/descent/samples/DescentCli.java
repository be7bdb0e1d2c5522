package dev.descent.samples;

import dev.descent.samples.cli.BackpropCommand;
import dev.descent.samples.cli.BenchCommand;
import dev.descent.samples.cli.DataCommand;
import dev.descent.samples.cli.MonitorCommand;
import dev.descent.samples.cli.TrainCommand;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code descent} command line: one subcommand per story, plus data and benchmark tools. */
@Command(name = "descent",
        mixinStandardHelpOptions = true,
        version = "descent 0.1.0-SNAPSHOT",
        description = "Train neural networks in pure Java and see what happens inside their optimization.")
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

    /**
     * The subcommands, in the order the usage lists them. Registered on the command line in code rather than in the
     * annotation so that {@link #commandLine(String...)} can build only the one a run names.
     */
    private static final List<Class<?>> SUBCOMMANDS = List.of(
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
            CommandLine.HelpCommand.class);

    /** Builds the command line with every subcommand and the project's exception handling (clean one-line errors). */
    public static CommandLine commandLine() {
        return build(SUBCOMMANDS);
    }

    /**
     * The command line for running {@code args}: when the first argument names a subcommand, only that one is built
     * (picocli reads every option of every command it registers by reflection, and the stories' commands pull in
     * their defaults and the chart classes: ~0.35 s of a run's start-up for a model of commands it will not use);
     * none for {@code --version} alone; otherwise (no arguments, an option first, {@code help}, a typo) all of them,
     * so usage, help and "did you mean" see the whole set.
     */
    public static CommandLine commandLine(String... args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            return build(List.of());
        }
        if (args.length > 0 && !args[0].equals("help")) {
            for (Class<?> c : SUBCOMMANDS) {
                Command command = c.getAnnotation(Command.class);
                boolean named = command != null
                        && (command.name().equals(args[0]) || List.of(command.aliases()).contains(args[0]));
                if (named) {
                    return build(List.of(c));
                }
            }
        }
        return commandLine();
    }

    private static CommandLine build(List<Class<?>> subcommands) {
        OutputDir.allowOverwrite(false);
        CommandLine cl = new CommandLine(new DescentCli());
        for (Class<?> c : subcommands) {
            cl.addSubcommand(c);
        }
        cl.setExecutionExceptionHandler(new CliErrors());
        cl.setParameterExceptionHandler(CliErrors::handleParameterException);
        return cl;
    }

    public static void main(String[] args) {
        int code = commandLine(args).execute(args);
        System.exit(code);
    }
}
