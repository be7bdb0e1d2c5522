package dev.descent.samples.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.Sample;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Admission control, off-loop submits, the shared dataset and the purge of finished jobs; real HTTP on 127.0.0.1. */
class JobServiceAdmissionTest {

    private static JobService start(DescentEngine engine, JobCatalog catalog, ServiceConfig config) {
        return JobService.start(engine, catalog, 0, config.token("admission-token-0123456789"));
    }

    @Test
    void shouldRefuseAJobOverTheMemoryBudgetWithTheNumbers() throws Exception {
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("admission-1"));
             JobService service = start(engine, JobCatalog.standard(), new ServiceConfig()
                     .memoryBudgetBytes(64L << 20));
             ServiceClient client = new ServiceClient(service)) {
            // wide-mlp at batch 4096 with 2 workers: activations and workspaces alone exceed 64 MiB
            HttpResponse<String> r = client.send("POST", "/jobs", "{\"model\":\"wide-mlp\",\"batch\":4096,"
                    + "\"workers\":2}");
            assertThat(r.statusCode()).isEqualTo(422);
            assertThat(ServiceClient.json(r).get("error").asText()).contains("MiB", "budget", "smaller batch");
            assertThat(service.reservedBytes()).isZero();
            HttpResponse<String> small = client.send("POST", "/jobs", "{\"model\":\"tiny-mlp\",\"epochs\":1}");
            assertThat(small.statusCode()).isEqualTo(201);
            client.waitFor(ServiceClient.json(small).get("id").asText(), "SUCCEEDED");
            awaitReleased(service);
        }
    }

    @Test
    void shouldAdmitConcurrentSubmitsAtomicallyAndBoundRunningJobs() throws Exception {
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("admission-2"));
             JobService service = start(engine, JobCatalog.standard(), new ServiceConfig().maxConcurrentJobs(2)
                     .maxEpochs(100_000));
             ServiceClient client = new ServiceClient(service)) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
            List<Future<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                all.add(pool.submit(() -> client.send("POST", "/jobs", "{\"epochs\":100000,\"batch\":64}")));
            }
            int created = 0;
            int tooMany = 0;
            List<String> ids = new ArrayList<>();
            for (Future<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                if (r.statusCode() == 201) {
                    created++;
                    ids.add(ServiceClient.json(r).get("id").asText());
                } else {
                    assertThat(r.statusCode()).isIn(429, 503);
                    tooMany++;
                    if (r.statusCode() == 429) {
                        assertThat(ServiceClient.json(r).get("error").asText()).contains("2 jobs are running");
                    }
                }
            }
            pool.shutdown();
            assertThat(created).isEqualTo(2);
            assertThat(tooMany).isEqualTo(4);
            for (String id : ids) {
                assertThat(client.send("POST", "/jobs/" + id + "/cancel", null).statusCode()).isEqualTo(202);
                client.waitFor(id, "CANCELLED");
            }
            awaitReleased(service);
        }
    }

    @Test
    void shouldSubmitOffTheEventLoopAndShareOneDatasetCopy() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger loads = new AtomicInteger();
        float[][] x = new float[256][4];
        int[] y = new int[256];
        for (int i = 0; i < x.length; i++) {
            y[i] = i % 2;
            x[i][0] = y[i] == 0 ? -1 : 1;
            x[i][1] = (i % 7) / 7f;
        }
        // a dataset whose first (and, being shared, only) load blocks until released
        DataSource slow = DataSource.fromIterator("slow", new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                if (i == 0) {
                    loads.incrementAndGet();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return i < x.length;
            }

            @Override
            public Sample next() {
                int k = i++;
                return new Sample(x[k], y[k]);
            }
        }, 4, 2).shared();
        JobCatalog catalog = JobCatalog.standard().withDataset("slow", new JobCatalog.DatasetEntry(slow,
                DataSource.arrays("slow-test", x, y, 2), new int[]{4}, 2, 256, 256));
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("admission-3"));
             JobService service = start(engine, catalog, new ServiceConfig().maxEpochs(100_000));
             ServiceClient client = new ServiceClient(service)) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            Future<HttpResponse<String>> first = pool.submit(() -> client.send("POST", "/jobs",
                    "{\"dataset\":\"slow\",\"epochs\":100000,\"batch\":32}"));
            Thread.sleep(300);
            long start = System.nanoTime();
            HttpResponse<String> list = client.send("GET", "/jobs", null);
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            assertThat(first.isDone()).isFalse(); // the submit is still loading, and the I/O thread answered anyway
            release.countDown();
            String a = ServiceClient.json(first.get(60, TimeUnit.SECONDS)).get("id").asText();
            client.waitFor(a, "RUNNING");
            // the iterator can be read once only: a second job can start only on the shared copy
            HttpResponse<String> second = client.send("POST", "/jobs", "{\"dataset\":\"slow\",\"epochs\":100000,"
                    + "\"batch\":32}");
            assertThat(second.statusCode()).isEqualTo(201);
            String b = ServiceClient.json(second).get("id").asText();
            client.waitFor(b, "RUNNING");
            assertThat(loads.get()).isEqualTo(1);
            client.send("POST", "/jobs/" + a + "/cancel", null);
            client.send("POST", "/jobs/" + b + "/cancel", null);
            client.waitFor(a, "CANCELLED");
            client.waitFor(b, "CANCELLED");
            pool.shutdown();
            awaitReleased(service);
        } finally {
            release.countDown();
        }
    }

    @Test
    void shouldForgetTheOldestFinishedJobsAndPageTheList() throws Exception {
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("admission-4"));
             JobService service = start(engine, JobCatalog.standard(), new ServiceConfig().maxFinishedJobs(2));
             ServiceClient client = new ServiceClient(service)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = client.send("POST", "/jobs", "{\"epochs\":1,\"batch\":256,\"limit\":512}");
                assertThat(r.statusCode()).isEqualTo(201);
                String id = ServiceClient.json(r).get("id").asText();
                ids.add(id);
                client.waitFor(id, "SUCCEEDED");
            }
            awaitReleased(service);
            JsonNode list = ServiceClient.json(client.send("GET", "/jobs", null));
            assertThat(list.findValuesAsText("id")).containsExactly(ids.get(2), ids.get(3));
            assertThat(client.send("GET", "/jobs/" + ids.getFirst(), null).statusCode()).isEqualTo(404);
            assertThat(engine.job(ids.getFirst())).isEmpty(); // the engine forgot it too
            JsonNode page = ServiceClient.json(client.send("GET", "/jobs?limit=1&after=" + ids.get(2), null));
            assertThat(page.findValuesAsText("id")).containsExactly(ids.get(3));
            assertThat(client.send("GET", "/jobs?limit=0", null).statusCode()).isEqualTo(400);
        }
    }

    @Test
    void shouldRefuseASecondLiveJobOfTheSameName() throws Exception {
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("admission-5"));
             JobService service = start(engine, JobCatalog.standard(), new ServiceConfig().maxEpochs(100_000));
             ServiceClient client = new ServiceClient(service)) {
            HttpResponse<String> a = client.send("POST", "/jobs", "{\"name\":\"same\",\"epochs\":100000}");
            assertThat(a.statusCode()).isEqualTo(201);
            HttpResponse<String> b = client.send("POST", "/jobs", "{\"name\":\"same\",\"epochs\":1}");
            assertThat(b.statusCode()).isEqualTo(400);
            assertThat(ServiceClient.json(b).get("error").asText()).contains("a job named same is still running");
            String id = ServiceClient.json(a).get("id").asText();
            client.send("POST", "/jobs/" + id + "/cancel", null);
            client.waitFor(id, "CANCELLED");
            awaitReleased(service);
            assertThat(client.send("POST", "/jobs", "{\"name\":\"same\",\"epochs\":1}").statusCode()).isEqualTo(201);
        }
    }

    /** The release runs when the job's result completes, just after the state turns final. */
    private static void awaitReleased(JobService service) throws InterruptedException {
        for (int i = 0; i < 200 && service.reservedBytes() != 0; i++) {
            Thread.sleep(10);
        }
        assertThat(service.reservedBytes()).isZero();
    }
}
