package io.switchboard.adapter.support;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.MDC;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/**
 * Channel and account of a webhook request in the MDC ({@code /webhooks/<channel>/<account>/...}, and
 * the web form's {@code /contact} as channel {@code webform}), so every log line of the publish path,
 * a refused signature or a failed send included, says which channel and account it concerns. Nothing
 * from the body is put there. Removed when the request ends.
 */
class WebhookMdcFilter extends OncePerRequestFilter {

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return !(path.startsWith("/webhooks/") || path.equals("/contact") || path.startsWith("/contact/"));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String[] parts = request.getRequestURI().split("/");
        // "", "webhooks", channel, account, ...
        String channel = parts.length > 1 && parts[1].equals("contact") ? "webform" : part(parts, 2);
        String account = parts.length > 1 && parts[1].equals("contact") ? "default" : part(parts, 3);
        try {
            if (channel != null) {
                MDC.put("channel", channel);
            }
            if (account != null) {
                MDC.put("account", account);
            }
            chain.doFilter(request, response);
        } finally {
            MDC.remove("channel");
            MDC.remove("account");
        }
    }

    /** A path segment fit for a log field: short, plain characters only (the path is the caller's input). */
    private static String part(String[] parts, int i) {
        if (parts.length <= i || parts[i].isEmpty() || parts[i].length() > 64 || !parts[i].matches("[A-Za-z0-9_.-]+")) {
            return null;
        }
        return parts[i];
    }
}
