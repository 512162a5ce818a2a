package io.switchboard.api.users;

import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.stereotype.Component;

import java.util.Locale;

/** Users from the store; roles become ROLE_AGENT, ROLE_OPERATOR, ROLE_ADMIN. */
@Component
class StoreUserDetailsService implements UserDetailsService {

    private final MongoTemplate mongo;

    StoreUserDetailsService(MongoTemplate mongo) {
        this.mongo = mongo;
    }

    @Override
    public UserDetails loadUserByUsername(String username) {
        UserAccount account = mongo.findById(username, UserAccount.class);
        if (account == null) {
            throw new UsernameNotFoundException("no such user");
        }
        return User.withUsername(account.username())
                .password(account.passwordHash())
                .disabled(!account.enabled())
                .authorities(account.roles().stream()
                        .map(r -> new SimpleGrantedAuthority("ROLE_" + r.toUpperCase(Locale.ROOT))).toList())
                .build();
    }
}
