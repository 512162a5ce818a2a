package io.switchboard.api.security;

import io.switchboard.contract.ContractJson;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.ContentCachingResponseWrapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /actuator/health} gives anyone but an admin exactly {@code {"status":"UP"}} (or DOWN...),
 * INTERFACE.md and ADR 0143. {@code show-details=when-authorized} already hides the components, but
 * Boot lists the health groups' names ({@code liveness}, {@code readiness}) at the root for everyone,
 * and its probe groups are added by a post-processor that cannot be ordered after ours; so the answer
 * is cut down here, to the one field load balancers and the contract read.
 */
class HealthStatusOnly extends OncePerRequestFilter {

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        return !"GET".equals(request.getMethod()) || !path.equals("/actuator/health") || isAdmin();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        ContentCachingResponseWrapper wrapped = new ContentCachingResponseWrapper(response);
        chain.doFilter(request, wrapped);
        byte[] body = wrapped.getContentAsByteArray();
        String status;
        try {
            status = ContractJson.mapper().readTree(body).path("status").asString("");
        } catch (RuntimeException notJson) {
            status = "";
        }
        if (status.isEmpty()) {
            wrapped.copyBodyToResponse(); // not a health answer (an error page): as it is
            return;
        }
        wrapped.resetBuffer();
        byte[] out = ContractJson.toJson(java.util.Map.of("status", status)).getBytes(StandardCharsets.UTF_8);
        wrapped.getResponse().setContentLength(out.length);
        wrapped.getResponse().getOutputStream().write(out);
        wrapped.getResponse().flushBuffer();
    }

    private static boolean isAdmin() {
        Authentication a = SecurityContextHolder.getContext().getAuthentication();
        return a != null && a.isAuthenticated() && a.getAuthorities().stream().anyMatch(g -> "ROLE_ADMIN".equals(g.getAuthority()));
    }
}
