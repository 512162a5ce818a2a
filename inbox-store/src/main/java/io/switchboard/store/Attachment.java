package io.switchboard.store;

/**
 * A file on a message. Content is fetched lazily by the channel (Telegram getFile, VK doc URL);
 * {@code ref} is the channel's handle for it.
 */
public record Attachment(String name, String contentType, Long size, String kind, String ref) {
}
