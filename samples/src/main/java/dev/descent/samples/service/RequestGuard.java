package dev.descent.samples.service;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * Who may drive the service, checked before any route: the {@code Host} must name this loopback server (a
 * DNS-rebinding page sends its own host name), an {@code Origin}, when present, must be this server's (a web page
 * of another origin is refused, so no browser can be used as a confused deputy), the bearer token must match
 * (compared in constant time), and a request with a body must say {@code Content-Type: application/json} (which
 * no cross-origin "simple request" can send without a CORS preflight, and the service answers none).
 */
final class RequestGuard {
    private final byte[] token;
    private final int port;

    RequestGuard(String token, int port) {
        this.token = token.getBytes(StandardCharsets.US_ASCII);
        this.port = port;
    }

    /** Throws {@link JobService.HttpError} with the status and reason when the request must be refused. */
    void check(HttpMethod method, HttpHeaders h, int bodyBytes) {
        String host = h.get(HttpHeaderNames.HOST);
        if (host == null || !isLocal(host, false)) {
            throw new JobService.HttpError(HttpResponseStatus.FORBIDDEN, "Host '" + host + "' is not this service "
                    + "(use 127.0.0.1:" + port + " or localhost:" + port + ")");
        }
        String origin = h.get(HttpHeaderNames.ORIGIN);
        if (origin != null && !isLocal(origin, true)) {
            throw new JobService.HttpError(HttpResponseStatus.FORBIDDEN, "cross-origin requests are refused (Origin '"
                    + origin + "')");
        }
        if (!authorized(h.get(HttpHeaderNames.AUTHORIZATION))) {
            throw new JobService.HttpError(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token: send "
                    + "'Authorization: Bearer <token>' (printed by the service at start, or $"
                    + ServiceConfig.TOKEN_ENV_NAME + ")");
        }
        if (method.equals(HttpMethod.POST) && bodyBytes > 0) {
            String type = h.get(HttpHeaderNames.CONTENT_TYPE);
            String mime = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            if (!mime.equals("application/json")) {
                throw new JobService.HttpError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
                        "the body must be sent as Content-Type: application/json (was '" + type + "')");
            }
        }
    }

    boolean authorized(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            MessageDigest.isEqual(token, new byte[token.length]); // same work either way
            return false;
        }
        return MessageDigest.isEqual(token, header.substring(7).strip().getBytes(StandardCharsets.US_ASCII));
    }

    /** {@code 127.0.0.1:port}, {@code localhost:port} or {@code [::1]:port}, with {@code http://} for an Origin. */
    private boolean isLocal(String value, boolean origin) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (origin) {
            if (!v.startsWith("http://")) {
                return false;
            }
            v = v.substring(7);
        }
        String suffix = ":" + port;
        return v.equals("127.0.0.1" + suffix) || v.equals("localhost" + suffix) || v.equals("[::1]" + suffix);
    }
}
