package dev.descent.samples.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedded service over real HTTP on 127.0.0.1. */
class JobServiceTest {
    private static DescentEngine engine;
    private static JobService service;
    private static ServiceClient client;

    @BeforeAll
    static void start() {
        engine = Descent.start(new DescentConfig().workers(2).systemName("service-test"));
        service = JobService.start(engine, JobCatalog.standard(), 0, new ServiceConfig().maxEpochs(100_000));
        client = new ServiceClient(service);
    }

    @AfterAll
    static void stop() {
        client.close();
        service.close();
        engine.close();
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        return client.send(method, path, body);
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return ServiceClient.json(r);
    }

    private static JsonNode waitFor(String id, String state) throws Exception {
        return client.waitFor(id, state);
    }

    @Test
    void shouldSubmitListInspectAndFinishAJob() throws Exception {
        HttpResponse<String> r = send("POST", "/jobs", "{\"name\":\"first\",\"model\":\"tiny-mlp\",\"dataset\":\"blobs\","
                + "\"epochs\":2,\"batch\":64,\"lr\":0.05,\"workers\":2}");
        assertThat(r.statusCode()).isEqualTo(201);
        String id = json(r).get("id").asText();
        JsonNode done = waitFor(id, "SUCCEEDED");
        assertThat(done.get("steps").asLong()).isEqualTo(64);
        assertThat(done.get("testAccuracy").asDouble()).isGreaterThan(0.9);
        assertThat(done.get("parametersSha256").asText()).hasSize(64);
        HttpResponse<String> list = send("GET", "/jobs", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(json(list).findValuesAsText("name")).contains("first");
    }

    @Test
    void shouldAnswerBadRequestsWith4xxAndLeaveRunningJobsAlone() throws Exception {
        HttpResponse<String> r = send("POST", "/jobs", "{\"name\":\"victim\",\"epochs\":10000,\"batch\":64}");
        assertThat(r.statusCode()).isEqualTo(201);
        String id = json(r).get("id").asText();
        waitFor(id, "RUNNING");

        HttpResponse<String> malformed = send("POST", "/jobs", "{\"model\": \"mlp\",");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(json(malformed).get("error").asText()).contains("malformed JSON");

        HttpResponse<String> unknownModel = send("POST", "/jobs", "{\"model\":\"gpt-17\"}");
        assertThat(unknownModel.statusCode()).isEqualTo(400);
        assertThat(json(unknownModel).get("error").asText()).contains("unknown model 'gpt-17'", "tiny-mlp");

        HttpResponse<String> unknownField = send("POST", "/jobs", "{\"model\":\"mlp\",\"rm\":\"-rf\"}");
        assertThat(unknownField.statusCode()).isEqualTo(400);

        HttpResponse<String> badNumber = send("POST", "/jobs", "{\"epochs\":-3}");
        assertThat(badNumber.statusCode()).isEqualTo(400);
        assertThat(json(badNumber).get("error").asText()).contains("epochs");

        HttpResponse<String> notObject = send("POST", "/jobs", "[1,2,3]");
        assertThat(notObject.statusCode()).isEqualTo(400);

        String huge = "{\"name\":\"" + "x".repeat(5 * JobService.MAX_BODY_BYTES) + "\"}";
        HttpResponse<String> tooBig = send("POST", "/jobs", huge);
        assertThat(tooBig.statusCode()).isEqualTo(413);

        assertThat(send("GET", "/jobs/999999", null).statusCode()).isEqualTo(404);
        assertThat(send("DELETE", "/jobs", null).statusCode()).isEqualTo(405);
        assertThat(send("GET", "/nothing", null).statusCode()).isEqualTo(404);

        long before = json(send("GET", "/jobs/" + id, null)).get("step").asLong();
        JsonNode still = json(send("GET", "/jobs/" + id, null));
        for (int i = 0; i < 400 && still.get("step").asLong() <= before; i++) {
            Thread.sleep(50); // a loaded machine: give it time, but it must move on
            still = json(send("GET", "/jobs/" + id, null));
        }
        assertThat(still.get("state").asText()).isEqualTo("RUNNING");
        assertThat(still.get("step").asLong()).isGreaterThan(before);
        assertThat(still.get("retries").asLong()).isZero();

        assertThat(send("POST", "/jobs/" + id + "/cancel", null).statusCode()).isEqualTo(202);
        JsonNode cancelled = waitFor(id, "CANCELLED");
        assertThat(cancelled.get("error").asText()).contains("cancelled");
        HttpResponse<String> again = send("POST", "/jobs/" + id + "/cancel", null);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(json(again).get("error").asText()).contains("already finished");
    }
}
