package io.switchboard.api.security;

import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.DisabledException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authentication.dao.DaoAuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.crypto.password.PasswordEncoder;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Password sign-in (HTTP Basic and the login form) with a short memory of successful checks.
 *
 * <p>bcrypt costs ~50-100 ms by design, and scripts using HTTP Basic send the password with every
 * request. A success is remembered under an HMAC (with a key that never leaves this process) of
 * user name and password, together with the password hash it was checked against: a hit counts
 * only while the stored hash is still the same (a password change ends it at once), the user is
 * enabled, and the entry is younger than {@link #TTL}. The table is bounded; failures are never
 * remembered, so guessing still pays bcrypt's price every time.
 */
public class CachingAuthenticationProvider implements AuthenticationProvider {

    static final Duration TTL = Duration.ofMinutes(5);
    static final int MAX_ENTRIES = 10_000;

    private record Verified(String passwordHash, Instant until) {
    }

    private final UserDetailsService users;
    private final DaoAuthenticationProvider delegate;
    private final Clock clock;
    private final byte[] key = new byte[32];
    private final Map<String, Verified> verified = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Verified> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    public CachingAuthenticationProvider(UserDetailsService users, PasswordEncoder encoder, Clock clock) {
        this.users = users;
        this.delegate = new DaoAuthenticationProvider(users);
        this.delegate.setPasswordEncoder(encoder);
        this.clock = clock;
        new SecureRandom().nextBytes(key);
    }

    @Override
    public Authentication authenticate(Authentication authentication) throws AuthenticationException {
        String username = authentication.getName();
        Object credentials = authentication.getCredentials();
        if (username == null || !(credentials instanceof String password)) {
            return delegate.authenticate(authentication);
        }
        String cacheKey = fingerprint(username, password);
        Instant now = clock.instant();
        Verified hit;
        synchronized (verified) {
            hit = verified.get(cacheKey);
        }
        if (hit != null && now.isBefore(hit.until())) {
            UserDetails user;
            try {
                user = users.loadUserByUsername(username);
            } catch (AuthenticationException gone) {
                forget(cacheKey);
                throw gone;
            }
            if (user.getPassword() != null && user.getPassword().equals(hit.passwordHash())) {
                if (!user.isEnabled()) {
                    forget(cacheKey);
                    throw new DisabledException("user is disabled");
                }
                UsernamePasswordAuthenticationToken result = UsernamePasswordAuthenticationToken.authenticated(
                        user, null, user.getAuthorities());
                result.setDetails(authentication.getDetails());
                return result;
            }
            forget(cacheKey);
        }
        Authentication result = delegate.authenticate(authentication);
        if (result != null && result.getPrincipal() instanceof UserDetails user && user.getPassword() != null) {
            synchronized (verified) {
                verified.put(cacheKey, new Verified(user.getPassword(), now.plus(TTL)));
            }
        }
        return result;
    }

    /** How many successful checks are remembered (for tests and metrics). */
    public int size() {
        synchronized (verified) {
            return verified.size();
        }
    }

    private void forget(String cacheKey) {
        synchronized (verified) {
            verified.remove(cacheKey);
        }
    }

    private String fingerprint(String username, String password) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(username.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return HexFormat.of().formatHex(mac.doFinal(password.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return UsernamePasswordAuthenticationToken.class.isAssignableFrom(authentication);
    }
}
