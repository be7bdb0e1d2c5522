package dev.descent.samples.service;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A parsed, validated {@code POST /jobs} body. Strict: one JSON object, nothing after it, no duplicate keys, no
 * unknown fields, every value of the right type and inside the service's caps ({@link ServiceConfig}); anything
 * else is a 400 naming the field, the value and what was expected.
 */
record JobRequest(String name, String model, String dataset, int epochs, int batch, double lr, double momentum,
                  int workers, long seed, int limit) {
    static final Set<String> FIELDS = Set.of("name", "model", "dataset", "epochs", "batch", "lr", "momentum",
            "workers", "seed", "limit");
    /** Largest learning rate accepted; beyond it SGD on these models only diverges. */
    static final double MAX_LR = 10;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    static final ObjectMapper STRICT_JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    static JobRequest parse(String body, ServiceConfig limits) {
        JsonNode n;
        try {
            n = STRICT_JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw bad("malformed JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw bad("the body must be a JSON object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw bad("unknown field '" + abbreviate(f) + "'; known: " + new java.util.TreeSet<>(FIELDS));
            }
        }
        String name = text(n, "name", null);
        if (name != null && !NAME.matcher(name).matches()) {
            throw bad("'name' must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit), was '"
                    + abbreviate(name) + "'");
        }
        double lr = number(n, "lr", 0.02, MAX_LR);
        if (lr <= 0) {
            throw bad("'lr' must be a number in (0, " + MAX_LR + "], was " + lr);
        }
        double momentum = number(n, "momentum", 0.9, 0.999);
        return new JobRequest(name, text(n, "model", "tiny-mlp"), text(n, "dataset", "blobs"),
                (int) integer(n, "epochs", 1, 1, limits.maxEpochs()),
                (int) integer(n, "batch", 128, 1, limits.maxBatch()), lr, momentum,
                (int) integer(n, "workers", 0, 0, limits.maxWorkers()),
                integer(n, "seed", 1, 0, 1L << 53), (int) integer(n, "limit", 0, 0, 100_000_000));
    }

    private static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw bad("'" + field + "' must be a string");
        }
        return v.asText();
    }

    private static long integer(JsonNode n, String field, long dflt, long min, long max) {
        JsonNode v = n.get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw bad("'" + field + "' must be an integer in [" + min + ", " + max + "], was " + abbreviate(v.toString()));
        }
        return v.asLong();
    }

    private static double number(JsonNode n, String field, double dflt, double max) {
        JsonNode v = n.get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() < 0 || v.asDouble() > max) {
            throw bad("'" + field + "' must be a number in [0, " + max + "], was " + abbreviate(v.toString()));
        }
        return v.asDouble();
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private static JobService.HttpError bad(String message) {
        return new JobService.HttpError(HttpResponseStatus.BAD_REQUEST, message);
    }
}
