package dev.descent.engine.actor;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.TrainingResult;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.DispatcherSelector;

/** Small generated data, a small MLP and a one-call job runner for the actor tests. */
public final class Fixtures {
    private Fixtures() {
    }

    /** Gaussian blobs: class c centred at a random point, spread 0.7 (mostly separable). */
    public static Dataset blobs(String name, int count, int features, int classes, long seed) {
        SplittableRandom centres = new SplittableRandom(4321);
        float[][] mu = new float[classes][features];
        for (int c = 0; c < classes; c++) {
            for (int f = 0; f < features; f++) {
                mu[c][f] = (float) (centres.nextGaussian() * 1.5);
            }
        }
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * features];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int c = r.nextInt(classes);
            y[i] = c;
            for (int f = 0; f < features; f++) {
                x[i * features + f] = mu[c][f] + (float) (r.nextGaussian() * 0.7);
            }
        }
        return Dataset.of(name, x, y, new int[]{features}, classes);
    }

    static Model mlp(double dropout) {
        return Mlp.builder().input(20).hidden(32, 16).activation(Activation.RELU).output(3).dropout(dropout)
                .init(Init.KAIMING_NORMAL).seed(7).build();
    }

    /** The job every test starts from: momentum + cosine, batch 64 (last batch partial), 3 epochs. */
    static JobSpec spec(Model model, Dataset train, Dataset test) {
        return new JobSpec().name("test").model(model).train(train).test(test).loss(LossKind.CROSS_ENTROPY)
                .optimizer(Optimizers.momentum(0.05, 0.9)).schedule(LrSchedule.cosine(0.05, 0.0, 0))
                .batchSize(64).evalBatchSize(50).epochs(3).seed(11);
    }

    static CompletableFuture<TrainingResult> start(ActorTestKit kit, JobSpec spec, JobStatus status) {
        CompletableFuture<TrainingResult> f = new CompletableFuture<>();
        kit.spawn(JobSupervisor.create(spec, status, f, DispatcherSelector.blocking()));
        return f;
    }

    static TrainingResult run(ActorTestKit kit, JobSpec spec) throws Exception {
        return start(kit, spec, new JobStatus()).get(120, TimeUnit.SECONDS);
    }

    /** Collects events (thread-safe). */
    static final class Recorder implements TrainingListener {
        final List<TrainingEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(TrainingEvent event) {
            events.add(event);
        }

        <T extends TrainingEvent> List<T> of(Class<T> type) {
            return events.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }
}
