package io.switchboard.api.users;

import io.switchboard.store.StoreDurability;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.util.List;
import java.util.Map;

/** User administration (role admin). */
@RestController
@RequestMapping("/api/admin/users")
class AdminUsersController {

    private final MongoTemplate mongo;
    private final PasswordEncoder encoder;
    private final StoreDurability durability;
    private final Clock clock;

    AdminUsersController(MongoTemplate mongo, PasswordEncoder encoder, ObjectProvider<StoreDurability> durability,
                         ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.encoder = encoder;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    record NewUser(@NotBlank @Pattern(regexp = "[A-Za-z0-9_.@-]{2,64}") String username,
                   @NotBlank @Size(min = 8, max = 200) String password,
                   @NotEmpty List<@Pattern(regexp = "agent|operator|admin") String> roles) {
    }

    @PostMapping
    ResponseEntity<Map<String, Object>> create(@Valid @RequestBody NewUser user) {
        var now = clock.instant();
        try {
            mongo.insert(new UserAccount(user.username(), encoder.encode(user.password()), List.copyOf(user.roles()), true, now, now));
        } catch (DuplicateKeyException e) {
            return ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error", "user already exists"));
        }
        durability.commit();
        return ResponseEntity.status(HttpStatus.CREATED).body(Map.of("username", user.username(), "roles", user.roles()));
    }
}
