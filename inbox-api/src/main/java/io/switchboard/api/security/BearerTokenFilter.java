package io.switchboard.api.security;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/** {@code Authorization: Bearer sbt_...} on the API: a script acting as the token's owner. */
class BearerTokenFilter extends OncePerRequestFilter {

    /** Principal of the Prometheus scraper: role METRICS only, no user record, nothing else it may do. */
    static final String SCRAPER = "metrics-scraper";

    private final ApiTokens tokens;
    private final UserDetailsService users;
    private final byte[] metricsToken;

    /** @param metricsToken the scraper's token (actuator chain only), or null */
    BearerTokenFilter(ApiTokens tokens, UserDetailsService users, String metricsToken) {
        this.tokens = tokens;
        this.users = users;
        this.metricsToken = metricsToken == null ? null : metricsToken.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            chain.doFilter(request, response);
            return;
        }
        String presented = header.substring(7).trim();
        if (metricsToken != null && java.security.MessageDigest.isEqual(metricsToken,
                presented.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            var context = SecurityContextHolder.createEmptyContext();
            context.setAuthentication(UsernamePasswordAuthenticationToken.authenticated(SCRAPER, null,
                    java.util.List.of(new org.springframework.security.core.authority.SimpleGrantedAuthority("ROLE_METRICS"))));
            SecurityContextHolder.setContext(context);
            chain.doFilter(request, response);
            return;
        }
        UserDetails user = tokens.owner(presented).map(name -> {
            try {
                return users.loadUserByUsername(name);
            } catch (UsernameNotFoundException gone) {
                return null;
            }
        }).orElse(null);
        if (user == null || !user.isEnabled()) {
            response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
            response.setContentType("application/json");
            response.getWriter().write("{\"error\":\"unknown or revoked token\"}");
            return;
        }
        var context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(UsernamePasswordAuthenticationToken.authenticated(user, null, user.getAuthorities()));
        SecurityContextHolder.setContext(context);
        chain.doFilter(request, response);
    }
}
