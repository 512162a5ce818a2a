package io.switchboard.store;

import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.mapping.Document;

import java.time.Instant;
import java.util.List;

/**
 * A person, with every channel identity seen for them and the fields the support desk asks for.
 *
 * @param mergedInto set when this contact was merged into another one; lookups follow it
 * @param tags       agents' labels on the person (e.g. {@code vip}), which SLA policies can match ({@code contactTags})
 */
@Document(Contact.COLLECTION)
public record Contact(
        @Id String id,
        String displayName,
        List<Identity> identities,
        String login,
        String project,
        boolean unreachable,
        String mergedInto,
        Instant createdAt,
        Instant updatedAt,
        List<String> tags) {

    public static final String COLLECTION = "contacts";

    public Contact {
        identities = identities == null ? List.of() : List.copyOf(identities);
        tags = tags == null ? List.of() : List.copyOf(tags);
    }
}
