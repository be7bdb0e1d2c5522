package dev.descent.samples.spring;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Guards the job API ({@code /api/*}): a socket that starts work is an attack surface even on 127.0.0.1, since any
 * web page the user opens can send requests to it. Every request needs {@code Authorization: Bearer TOKEN}
 * (compared in constant time); a {@code Host} other than a loopback name is refused (DNS rebinding); an
 * {@code Origin} not configured in {@code descent.api.allowed-origins} is refused (cross-site requests); a POST must
 * be {@code application/json} (no CORS "simple request" can send that). The token comes from
 * {@code descent.api.token}, or is generated at start and logged once.
 */
final class ApiGuard extends OncePerRequestFilter {
    private static final Logger LOG = LoggerFactory.getLogger(ApiGuard.class);
    private static final Set<String> LOOPBACK_HOSTS = Set.of("127.0.0.1", "localhost", "[::1]");

    private final byte[] token;
    private final Set<String> allowedOrigins;

    ApiGuard(String configuredToken, String allowedOrigins) {
        String t = configuredToken == null || configuredToken.isBlank() ? generate() : configuredToken.trim();
        if (configuredToken == null || configuredToken.isBlank()) {
            LOG.info("Descent job API token (send it as 'Authorization: Bearer <token>'): {}", t);
        } else if (t.length() < 16) {
            throw new IllegalArgumentException("descent.api.token must have at least 16 characters, had " + t.length());
        }
        this.token = t.getBytes(StandardCharsets.UTF_8);
        this.allowedOrigins = allowedOrigins == null ? Set.of() : Stream.of(allowedOrigins.split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }

    /** The token clients must send. */
    String token() {
        return new String(token, StandardCharsets.UTF_8);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
            throws ServletException, IOException {
        String host = req.getHeader("Host");
        if (host == null || !LOOPBACK_HOSTS.contains(hostName(host))) {
            refuse(res, 403, "Host '" + host + "' is not this service's loopback address");
            return;
        }
        String origin = req.getHeader("Origin");
        if (origin != null && !allowedOrigins.contains(origin)) {
            refuse(res, 403, "cross-origin requests from '" + origin + "' are not allowed");
            return;
        }
        String auth = req.getHeader("Authorization");
        byte[] sent = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                ? auth.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(sent, token)) {
            res.setHeader("WWW-Authenticate", "Bearer");
            refuse(res, 401, "missing or wrong bearer token (it was logged at start, or set descent.api.token)");
            return;
        }
        if ("POST".equals(req.getMethod())) {
            String type = req.getContentType();
            if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
                refuse(res, 415, "POST bodies must be application/json, was " + type);
                return;
            }
        }
        chain.doFilter(req, res);
    }

    private static String hostName(String hostHeader) {
        String h = hostHeader.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private static void refuse(HttpServletResponse res, int status, String reason) throws IOException {
        res.setStatus(status);
        res.setContentType("application/json");
        res.getWriter().write("{\"error\":\"" + reason.replace("\\", "\\\\").replace("\"", "'") + "\"}");
    }

    private static String generate() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
