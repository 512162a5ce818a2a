package io.switchboard.api.users;

import io.switchboard.store.StoreDurability;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Component;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.List;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Makes sure the user {@code admin} exists: with INBOX_ADMIN_PASSWORD when set (changing the
 * variable changes the password at the next start), otherwise with a random password that is
 * printed once, on the start that creates it.
 */
@Component
class AdminBootstrap implements ApplicationRunner {

    private final MongoTemplate mongo;
    private final PasswordEncoder encoder;
    private final String configuredPassword;
    private final StoreDurability durability;
    private final Clock clock;

    AdminBootstrap(MongoTemplate mongo, PasswordEncoder encoder, @Value("${INBOX_ADMIN_PASSWORD:}") String configuredPassword,
                   ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.encoder = encoder;
        this.configuredPassword = configuredPassword;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Override
    public void run(ApplicationArguments args) {
        UserAccount existing = mongo.findById("admin", UserAccount.class);
        if (!configuredPassword.isBlank()) {
            if (existing == null || !encoder.matches(configuredPassword, existing.passwordHash())) {
                save(encoder.encode(configuredPassword));
            }
        } else if (existing == null) {
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            save(encoder.encode(password));
            // Printed to the console on purpose, once: the operator needs it to log in the first time.
            System.out.println("\n*** Switchboard: generated password for user 'admin': " + password
                    + "\n*** Set INBOX_ADMIN_PASSWORD to choose your own. This is shown only once.\n");
        }
    }

    private void save(String hash) {
        var now = clock.instant();
        mongo.upsert(Query.query(where("_id").is("admin")), new Update()
                .set("passwordHash", hash).set("roles", List.of("admin", "operator", "agent")).set("enabled", true)
                .setOnInsert("createdAt", now).set("updatedAt", now), UserAccount.class);
        durability.commit();
    }
}
