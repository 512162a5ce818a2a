package io.switchboard.api.security;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A browser session holds the user as they signed in; an admin who disables them or changes their
 * roles means it now. So a request carried by a session is checked against the stored user (one read
 * by id): disabled, deleted or with other roles, the session ends and the request goes on as anonymous
 * (refused, or sent to the login page). Basic and token requests are checked at every sign-in anyway.
 */
class SessionUserCheck extends OncePerRequestFilter {

    private final UserDetailsService users;

    SessionUserCheck(UserDetailsService users) {
        this.users = users;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return request.getHeader("Authorization") != null || request.getSession(false) == null;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Authentication auth = SecurityContextHolder.getContext().getAuthentication();
        if (auth != null && auth.isAuthenticated() && !(auth instanceof AnonymousAuthenticationToken) && !stillValid(auth)) {
            SecurityContextHolder.clearContext();
            HttpSession session = request.getSession(false);
            if (session != null) {
                session.invalidate();
            }
        }
        chain.doFilter(request, response);
    }

    private boolean stillValid(Authentication auth) {
        try {
            UserDetails current = users.loadUserByUsername(auth.getName());
            return current.isEnabled() && names(current.getAuthorities()).equals(names(auth.getAuthorities()));
        } catch (UsernameNotFoundException gone) {
            return false;
        }
    }

    private static Set<String> names(java.util.Collection<? extends GrantedAuthority> authorities) {
        return authorities.stream().map(GrantedAuthority::getAuthority).filter(a -> a.startsWith("ROLE_")).collect(Collectors.toSet());
    }
}
