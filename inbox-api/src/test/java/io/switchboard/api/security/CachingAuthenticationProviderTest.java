package io.switchboard.api.security;

import org.junit.jupiter.api.Test;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.crypto.password.PasswordEncoder;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CachingAuthenticationProviderTest {

    /** A stand-in for bcrypt that counts how often the slow check runs. */
    static final class CountingEncoder implements PasswordEncoder {
        final AtomicInteger checks = new AtomicInteger();

        @Override
        public String encode(CharSequence raw) {
            return "hash:" + raw;
        }

        @Override
        public boolean matches(CharSequence raw, String encoded) {
            checks.incrementAndGet();
            return encoded.equals("hash:" + raw);
        }
    }

    final CountingEncoder encoder = new CountingEncoder();
    final AtomicReference<String> storedHash = new AtomicReference<>("hash:secret-1");
    final AtomicReference<Boolean> enabled = new AtomicReference<>(true);
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    final UserDetailsService users = name -> {
        UserDetails u = User.withUsername(name).password(storedHash.get()).roles("AGENT").disabled(!enabled.get()).build();
        return u;
    };
    final CachingAuthenticationProvider provider = new CachingAuthenticationProvider(users, encoder, new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    });

    Authentication login(String password) {
        return provider.authenticate(UsernamePasswordAuthenticationToken.unauthenticated("alice", password));
    }

    @Test
    void aRepeatedCorrectPasswordIsCheckedSlowlyOnlyOnce() {
        assertThat(login("secret-1").isAuthenticated()).isTrue();
        assertThat(login("secret-1").getAuthorities()).extracting(Object::toString).containsExactly("ROLE_AGENT");
        assertThat(login("secret-1").isAuthenticated()).isTrue();
        assertThat(encoder.checks).hasValue(1);
    }

    @Test
    void wrongPasswordsAreNeverRemembered() {
        login("secret-1");
        assertThatThrownBy(() -> login("guess")).isInstanceOf(BadCredentialsException.class);
        assertThatThrownBy(() -> login("guess")).isInstanceOf(BadCredentialsException.class);
        assertThat(encoder.checks).hasValue(3);
        assertThat(provider.size()).isEqualTo(1);
    }

    @Test
    void aPasswordChangeEndsTheMemoryAtOnce() {
        login("secret-1");
        storedHash.set("hash:secret-2");
        assertThatThrownBy(() -> login("secret-1")).isInstanceOf(BadCredentialsException.class);
        assertThat(login("secret-2").isAuthenticated()).isTrue();
    }

    @Test
    void aDisabledUserIsRefusedEvenWhenRemembered() {
        login("secret-1");
        enabled.set(false);
        assertThatThrownBy(() -> login("secret-1")).isInstanceOf(org.springframework.security.authentication.DisabledException.class);
    }

    @Test
    void theMemoryExpires() {
        login("secret-1");
        now.set(now.get().plus(CachingAuthenticationProvider.TTL).plus(Duration.ofSeconds(1)));
        login("secret-1");
        assertThat(encoder.checks).hasValue(2);
    }
}
