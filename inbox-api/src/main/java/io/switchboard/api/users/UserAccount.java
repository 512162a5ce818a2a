package io.switchboard.api.users;

import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.mapping.Document;

import java.time.Instant;
import java.util.List;

/** An agent, operator or admin; the password is stored only as a bcrypt hash. */
@Document(UserAccount.COLLECTION)
public record UserAccount(@Id String username, String passwordHash, List<String> roles, boolean enabled,
                          Instant createdAt, Instant updatedAt) {

    public static final String COLLECTION = "users";
    public static final List<String> ROLES = List.of("agent", "operator", "admin");
}
