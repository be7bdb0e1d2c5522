package dev.descent.samples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The Descent SDK inside a Spring Boot service: a job API ({@code /api/jobs}) that submits, lists and cancels
 * training jobs on one {@link dev.descent.sdk.DescentEngine}, Descent's metrics in the host's Micrometer registry
 * (so {@code /actuator/prometheus} serves them beside the service's own), and a health contributor
 * ({@code /actuator/health/descent}) that reflects the running jobs. Run with the JVM flags of docs/sdk.md.
 */
@SpringBootApplication
public class DescentSpringService {
    public static void main(String[] args) {
        SpringApplication.run(DescentSpringService.class, args);
    }
}
