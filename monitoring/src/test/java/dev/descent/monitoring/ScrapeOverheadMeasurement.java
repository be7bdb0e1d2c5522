package dev.descent.monitoring;

import dev.descent.engine.backprop.BackpropStrategy;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a test: does scraping /metrics every 100 ms slow training? Runs the same real training
 * (MLP 32-256-256-256-4, batch 128, every event published to Monitoring) in alternating windows without and
 * with a local client that GETs /metrics every 100 ms, and prints examples/s per window and the ratio. Asserts
 * nothing about speed (noisy shared machines); run it on request:
 * <pre>
 * ./mvnw -B -q -ntp -pl monitoring -am test -Dtest=ScrapeOverheadMeasurement -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Ddescent.measure=true [-Ddescent.measure.seconds=6 -Ddescent.measure.pairs=3]
 * </pre>
 */
@EnabledIfSystemProperty(named = "descent.measure", matches = "true")
class ScrapeOverheadMeasurement {

    @Test
    void measureScrapeOverhead() throws Exception {
        long windowMs = Long.getLong("descent.measure.seconds", 4) * 1000;
        int pairs = Integer.getInteger("descent.measure.pairs", 6);
        Path tmp = Files.createTempDirectory("descent-scrape-overhead");
        try (Monitoring monitoring = Monitoring.start(new MonitoringConfig().port(0).job("overhead"));
             HttpClient client = HttpClient.newHttpClient()) {
            window(monitoring, tmp, 3000, false, client); // warm-up: JIT, first meters
            double sumOff = 0;
            double sumOn = 0;
            long scrapesTotal = 0;
            double[] ratios = new double[pairs];
            for (int i = 0; i < pairs; i++) {
                // ABBA order, so a drift in machine load does not favour one side
                boolean scrapeFirst = i % 2 == 1;
                double[] first = window(monitoring, tmp, windowMs, scrapeFirst, client);
                double[] second = window(monitoring, tmp, windowMs, !scrapeFirst, client);
                double[] on = scrapeFirst ? first : second;
                double off = (scrapeFirst ? second : first)[0];
                sumOff += off;
                sumOn += on[0];
                scrapesTotal += (long) on[1];
                ratios[i] = on[0] / off;
                System.out.printf("pair %d: without scrapes %.0f examples/s, with scrapes every 100 ms %.0f "
                        + "examples/s (%d scrapes, %.0f bytes each), ratio %.3f%n", i + 1, off, on[0], (long) on[1],
                        on[2], ratios[i]);
            }
            java.util.Arrays.sort(ratios);
            System.out.printf("scrape overhead: with/without = %.3f (mean of throughputs), median pair ratio %.3f, "
                    + "over %d pairs of %d s windows (%d scrapes)%n", sumOn / sumOff, ratios[pairs / 2], pairs,
                    windowMs / 1000, scrapesTotal);
            // the cost of one scrape on the server side, measured directly (less sensitive to machine load)
            int n = 300;
            for (int i = 0; i < 50; i++) {
                monitoring.registry().scrape(HttpRoutes.OPENMETRICS_TEXT);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                monitoring.registry().scrape(HttpRoutes.OPENMETRICS_TEXT);
            }
            double msPerScrape = (System.nanoTime() - t0) / 1e6 / n;
            System.out.printf("one scrape serializes in %.3f ms: at 10 scrapes/s that is %.2f%% of one core%n",
                    msPerScrape, msPerScrape * 10 / 1000 * 100);
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Trains for {@code ms}; returns {examples/s, scrapes, mean scrape bytes}. */
    private static double[] window(Monitoring monitoring, Path dir, long ms, boolean scrape, HttpClient client)
            throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong scrapes = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        Thread scraper = null;
        if (scrape) {
            HttpRequest get = HttpRequest.newBuilder(monitoring.metricsUri()).header("Accept",
                    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5").build();
            scraper = Thread.ofPlatform().name("scraper").start(() -> {
                while (!done.get()) {
                    try {
                        HttpResponse<byte[]> r = client.send(get, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() == 200) {
                            scrapes.incrementAndGet();
                            bytes.addAndGet(r.body().length);
                        }
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
        }
        long examples;
        double seconds;
        try (RealTraining run = new RealTraining("overhead", monitoring.listener(), dir, BackpropStrategy.VANILLA,
                128, 10, 16_384, 256, 256, 256)) {
            long deadline = System.nanoTime() + ms * 1_000_000;
            long t0 = System.nanoTime();
            run.run(1_000_000, () -> System.nanoTime() > deadline);
            seconds = (System.nanoTime() - t0) / 1e9;
            examples = run.examples();
        } finally {
            done.set(true);
            if (scraper != null) {
                scraper.join(5000);
            }
        }
        long n = scrapes.get();
        return new double[]{examples / seconds, n, n == 0 ? 0 : bytes.get() / (double) n};
    }
}
