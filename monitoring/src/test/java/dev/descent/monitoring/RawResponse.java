package dev.descent.monitoring;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLSession;

/** A response read off a raw socket, as an {@link HttpResponse} so tests read the same either way. */
record RawResponse(int statusCode, HttpHeaders headers, String body) implements HttpResponse<String> {
    static RawResponse parse(String text) {
        int split = text.indexOf("\r\n\r\n");
        String[] lines = text.substring(0, split).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    List.of(lines[i].substring(colon + 1).trim()));
        }
        return new RawResponse(status, HttpHeaders.of(headers, (a, b) -> true), text.substring(split + 4));
    }

    @Override
    public HttpRequest request() {
        throw new UnsupportedOperationException("raw response");
    }

    @Override
    public Optional<HttpResponse<String>> previousResponse() {
        return Optional.empty();
    }

    @Override
    public Optional<SSLSession> sslSession() {
        return Optional.empty();
    }

    @Override
    public URI uri() {
        throw new UnsupportedOperationException("raw response");
    }

    @Override
    public HttpClient.Version version() {
        return HttpClient.Version.HTTP_1_1;
    }
}
