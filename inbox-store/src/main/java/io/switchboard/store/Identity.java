package io.switchboard.store;

import java.util.Locale;
import java.util.Objects;

/**
 * One way to reach a contact: an email address, a Telegram user id, a VK user id, a Facebook
 * PSID (per page), a phone number in E.164. Two events with equal identities are the same person.
 *
 * @param type  email, telegram, vk, facebook, phone
 * @param value the normalized value (lower-case email, E.164 phone, numeric id as text)
 */
public record Identity(String type, String value) {

    public Identity {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        type = type.toLowerCase(Locale.ROOT);
        value = type.equals("email") ? value.trim().toLowerCase(Locale.ROOT) : value.trim();
    }

    /** The unique key in the identity index. */
    public String key() {
        return type + ":" + value;
    }
}
