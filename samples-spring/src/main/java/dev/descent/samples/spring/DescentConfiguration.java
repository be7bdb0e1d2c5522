package dev.descent.samples.spring;

import dev.descent.monitoring.TrainingMetrics;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** One engine per service, closed with the application context; its events feed the host's registry. */
@Configuration(proxyBeanMethods = false)
class DescentConfiguration {
    @Bean(destroyMethod = "close")
    DescentEngine descentEngine(@Value("${descent.workers:1}") int workers,
                                @Value("${descent.memory-budget-bytes:2147483648}") long budgetBytes) {
        return Descent.start(new DescentConfig().workers(workers).memoryBudgetBytes(budgetBytes)
                .systemName("descent-spring"));
    }

    /** Descent's meters in the host's {@link MeterRegistry} (Spring's), not a second registry. */
    @Bean(destroyMethod = "close")
    TrainingMetrics descentMetrics(MeterRegistry registry, DescentEngine engine) {
        TrainingMetrics metrics = new TrainingMetrics(registry);
        engine.addListener(metrics);
        return metrics;
    }

    @Bean
    ApiGuard apiGuard(@Value("${descent.api.token:}") String token,
                      @Value("${descent.api.allowed-origins:}") String allowedOrigins) {
        return new ApiGuard(token, allowedOrigins);
    }
}
