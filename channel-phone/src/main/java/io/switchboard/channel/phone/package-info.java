/** channel-phone (PBX call logs). */
package io.switchboard.channel.phone;
