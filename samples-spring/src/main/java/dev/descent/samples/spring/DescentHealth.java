package dev.descent.samples.spring;

import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.JobState;
import dev.descent.sdk.KernelInfo;
import dev.descent.sdk.TrainingJob;
import java.util.EnumMap;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/health/descent}: UP with the jobs per state and the kernels in use; the scalar-kernel fallback
 * shows as a warning detail (the service works, slowly).
 */
@Component("descent")
class DescentHealth implements HealthIndicator {
    private final DescentEngine engine;

    DescentHealth(DescentEngine engine) {
        this.engine = engine;
    }

    @Override
    public Health health() {
        Map<JobState, Integer> byState = new EnumMap<>(JobState.class);
        for (TrainingJob j : engine.jobs()) {
            byState.merge(j.state(), 1, Integer::sum);
        }
        int running = byState.getOrDefault(JobState.RUNNING, 0) + byState.getOrDefault(JobState.STARTING, 0);
        KernelInfo k = Descent.kernels();
        Health.Builder h = Health.up().withDetail("runningJobs", running).withDetail("jobs", byState)
                .withDetail("kernels", k.backend());
        k.slowPathWarning().ifPresent(w -> h.withDetail("warning", w));
        return h.build();
    }
}
