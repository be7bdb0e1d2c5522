package dev.descent.samples.spring;

import dev.descent.sdk.Activation;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.DescentException;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Progress;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingJob;
import dev.descent.sdk.TrainingPlan;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** The job API: submit ({@code POST /api/jobs}), list, read one, cancel ({@code DELETE /api/jobs/{id}}). */
@RestController
@RequestMapping("/api/jobs")
class JobController {
    private static final Logger LOG = LoggerFactory.getLogger(JobController.class);

    private final DescentEngine engine;
    private final int maxRunningJobs;

    JobController(DescentEngine engine, @Value("${descent.api.max-running-jobs:2}") int maxRunningJobs) {
        this.engine = engine;
        this.maxRunningJobs = maxRunningJobs;
    }

    /**
     * A Fashion-MNIST MLP job. Fields and their caps are in {@link JobRequest}; the engine's memory budget refuses
     * what would not fit.
     */
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    synchronized ResponseEntity<?> submit(@RequestBody JobRequest request) {
        request.validate();
        long running = engine.jobs().stream().filter(j -> !j.state().isFinal()).count();
        if (running >= maxRunningJobs) {
            return error(HttpStatus.TOO_MANY_REQUESTS, running + " jobs are running; the limit is " + maxRunningJobs);
        }
        String name = request.name();
        if (engine.jobs().stream().anyMatch(j -> !j.state().isFinal() && j.name().equals(name))) {
            return error(HttpStatus.CONFLICT, "a job named '" + name + "' is running");
        }
        TrainingPlan plan = TrainingPlan.builder().name(name)
                .model(ModelDefinition.mlp().input(1, 28, 28).hidden(request.hiddenOrDefault())
                        .activation(Activation.RELU).output(10).seed(request.seedOrDefault()).build())
                .train(DataSource.fashionMnist(Split.TRAIN).limit(request.trainLimitOrDefault()))
                .test(DataSource.fashionMnist(Split.TEST).limit(2000))
                .optimizer(Optimizer.momentum(request.lrOrDefault(), 0.9))
                .batchSize(request.batchSizeOrDefault()).epochs(request.epochsOrDefault())
                .seed(request.seedOrDefault()).workers(1).build();
        TrainingJob job = engine.submit(plan);
        return ResponseEntity.status(HttpStatus.CREATED).body(JobView.of(job));
    }

    @GetMapping
    List<JobView> list() {
        return engine.jobs().stream().map(JobView::of).toList();
    }

    @GetMapping("/{id}")
    ResponseEntity<?> one(@PathVariable("id") String id) {
        return engine.job(id).<ResponseEntity<?>>map(j -> ResponseEntity.ok(JobView.of(j)))
                .orElseGet(() -> error(HttpStatus.NOT_FOUND, "no job " + id));
    }

    @DeleteMapping("/{id}")
    ResponseEntity<?> cancel(@PathVariable("id") String id) {
        return engine.job(id).<ResponseEntity<?>>map(j -> {
            if (j.state().isFinal()) {
                return error(HttpStatus.CONFLICT, "job " + id + " already finished (" + j.state() + ")");
            }
            j.cancel();
            return ResponseEntity.accepted().body(JobView.of(j));
        }).orElseGet(() -> error(HttpStatus.NOT_FOUND, "no job " + id));
    }

    @ExceptionHandler(IllegalArgumentException.class)
    ResponseEntity<?> badRequest(IllegalArgumentException e) {
        return error(HttpStatus.BAD_REQUEST, e.getMessage());
    }

    /** The plan cannot run here (memory budget, data): the SDK's message says why. */
    @ExceptionHandler(DescentException.class)
    ResponseEntity<?> refused(DescentException e) {
        return error(HttpStatus.UNPROCESSABLE_CONTENT, e.getMessage());
    }

    /** A bug: logged with an id; the client gets the id, never the exception text. */
    @ExceptionHandler(RuntimeException.class)
    ResponseEntity<?> failure(RuntimeException e) {
        String incident = UUID.randomUUID().toString();
        LOG.error("job API failure {}", incident, e);
        return ResponseEntity.status(HttpStatus.INTERNAL_SERVER_ERROR)
                .body(Map.of("error", "internal error", "incident", incident));
    }

    private static ResponseEntity<?> error(HttpStatus status, String message) {
        return ResponseEntity.status(status).body(Map.of("error", message));
    }

    /** What a client sees of a job. */
    record JobView(String id, String name, String state, long step, long totalSteps, int epoch, double lastLoss,
                   Double testAccuracy) {
        static JobView of(TrainingJob job) {
            Progress p = job.progress();
            return new JobView(job.id(), job.name(), job.state().name(), p.step(), p.totalSteps(), p.epoch(),
                    p.lastLoss(), Double.isNaN(p.testAccuracy()) ? null : p.testAccuracy());
        }
    }
}
